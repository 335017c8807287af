// GPU behaviour of the public entry point around the kernels: repeatable results (a moving
// result is a race), the auto variant's choice, LSE, a custom sm_scale and strided inputs.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "kernel_bounds.h"
#include "kernel_case.h"
#include "kernel_checks.h"
#include "sageattn/attention.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"
#include "sageattn/variants.h"

namespace sagegen::kernel_tests {
namespace {

using sageattn::Engine;
using sageattn::Variant;

#define SKIP_WITHOUT_CUDA() \
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one"

const Variant kKernelVariants[] = {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1,
                                   Variant::kFp16};

KernelCase medium_case(Variant variant) {
  KernelCase c;
  c.variant = variant;
  c.batch = 2;
  c.heads_q = 4;
  c.heads_kv = 2;
  c.len_q = c.len_k = 1000;
  return c;
}

std::string variant_name(Variant v) { return std::string(sageattn::to_string(v)); }

TEST(KernelApi, SameInputsGiveBitwiseTheSameOutput) {
  SKIP_WITHOUT_CUDA();
  for (const Variant variant : kKernelVariants) {
    const KernelCase c = medium_case(variant);
    const GuardedInputs in = make_guarded_inputs(c, /*seed=*/11);
    const at::Tensor first = sageattn::attention(in.q, in.k, in.v, c.options()).out;
    poison_cuda_allocator(int64_t{64} << 20);
    const at::Tensor second = sageattn::attention(in.q, in.k, in.v, c.options()).out;
    EXPECT_TRUE(at::equal(first, second))
        << variant_name(variant) << ": two runs on the same inputs differ (a race?), max diff "
        << (first.to(at::kFloat) - second.to(at::kFloat)).abs().max().item<float>();
  }
}

TEST(KernelApi, QuantizeOnlyRunsTheQuantizationKernelsOfEachVariant) {
  SKIP_WITHOUT_CUDA();
  for (const Variant variant : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
    const KernelCase c = medium_case(variant);
    const GuardedInputs in = make_guarded_inputs(c, /*seed=*/13);
    if (!sageattn::why_unsupported(in.q, in.k, in.v, c.options()).empty()) continue;
    EXPECT_NO_THROW(sageattn::quantize_only(in.q, in.k, in.v, c.options())) << variant_name(variant);
    // A device-to-host copy waits for the stream: an asynchronous kernel fault surfaces here.
    EXPECT_NO_THROW(at::zeros({1}, in.q.options()).item<float>()) << variant_name(variant);
  }
}

// auto runs sage2-8b where its kernel runs and, on sm_90, only from the measured crossover length
// on (sageattn/variants.h kAutoCrossovers: 3072 tokens at hd128 and 3584 at hd64 without a
// mask); below it, and elsewhere without a kernel, torch SDPA. Checked by comparing with the
// explicit variant's bits, at one length below the crossover and one above it.
TEST(KernelApi, AutoFollowsTheMeasuredCrossover) {
  SKIP_WITHOUT_CUDA();
  const bool hopper = sageattn::cuda_arch(0) == 90;
  for (const int64_t len : {int64_t{1000}, int64_t{16384}}) {
    KernelCase c = medium_case(Variant::kSage2Int8);
    c.batch = c.heads_q = c.heads_kv = 1;
    c.len_q = c.len_k = len;
    const GuardedInputs in = make_guarded_inputs(c, /*seed=*/12);
    sageattn::AttentionOptions auto_options = c.options();
    auto_options.variant = Variant::kAuto;
    auto_options.engine = Engine::kAuto;
    const bool int8_runs = sageattn::why_unsupported(in.q, in.k, in.v, c.options()).empty();
    const bool long_enough =
        !hopper || sageattn::auto_prefers_sage2_int8(90, c.head_dim, static_cast<double>(len),
                                                     c.causal);
    KernelCase expected_case = c;
    expected_case.variant = int8_runs && long_enough ? Variant::kSage2Int8 : Variant::kFp16;
    const at::Tensor expected = sageattn::attention(in.q, in.k, in.v, expected_case.options()).out;
    const at::Tensor got = sageattn::attention(in.q, in.k, in.v, auto_options).out;
    EXPECT_TRUE(at::equal(got, expected))
        << "auto at L " << len << " should run " << variant_name(expected_case.variant);
  }
}

// The call's LSE against the golden model's (same numerics) and exact attention's.
void expect_lse_matches_golden_and_exact(const KernelCase& c, uint64_t seed) {
  const std::string name = variant_name(c.variant) + (c.smooth_q ? "+smoothq" : "");
  const GuardedInputs in = make_guarded_inputs(c, seed);
  sageattn::AttentionOptions options = c.options();
  options.return_lse = true;
  const sageattn::AttentionResult got = sageattn::attention(in.q, in.k, in.v, options);
  ASSERT_TRUE(got.lse.defined()) << name;
  ASSERT_EQ(got.lse.sizes(), (at::IntArrayRef{c.batch, c.heads_q, c.len_q}));
  sageattn::AttentionOptions golden_options = options;
  golden_options.engine = Engine::kGolden;
  const sageattn::KernelNumerics numerics = sageattn::kernel_numerics(in.q, in.k, in.v, options);
  const at::Tensor golden =
      sageattn::reference::golden_attention(in.q, in.k, in.v, golden_options, numerics).lse;
  const at::Tensor exact = sageattn::reference::exact_attention(in.q, in.k, in.v, options).lse;
  const at::Tensor lse = got.lse.to(at::kCPU, at::kDouble);
  const double vs_golden = (lse - golden.to(at::kCPU, at::kDouble)).abs().max().item<double>();
  const double vs_exact = (lse - exact).abs().mean().item<double>();
  std::printf("measured: lse %s (%d padding rows first) max |kernel - golden| %.3e, mean |kernel - "
              "exact| %.3e\n",
              name.c_str(), numerics.q_lead_rows, vs_golden, vs_exact);
  // FP32 LSE of the same operands: summation order only (values are O(10)).
  EXPECT_LE(vs_golden, 1e-3) << name;
  // docs/numerics.md: LSE mean error < 0.06, or < 0.6 for INT4.
  EXPECT_LE(vs_exact, c.variant == Variant::kSage2Int4 ? 0.6 : 0.06) << name;
}

TEST(KernelApi, LseMatchesTheGoldenModelAndExact) {
  SKIP_WITHOUT_CUDA();
  for (const Variant variant : kKernelVariants) {
    KernelCase c = medium_case(variant);
    c.causal = true;
    expect_lse_matches_golden_and_exact(c, /*seed=*/13);
  }
  // Q smoothing's LSE correction on a causal sage2-8b call: on sm_90 its Q blocks start 128
  // padding rows before row 0 (1000 rows in 192-row tiles), and the correction follows them.
  KernelCase smoothed = medium_case(Variant::kSage2Int8);
  smoothed.causal = true;
  smoothed.smooth_q = true;
  expect_lse_matches_golden_and_exact(smoothed, /*seed=*/15);
}

TEST(KernelApi, CustomSmScaleMatchesTheGoldenModel) {
  SKIP_WITHOUT_CUDA();
  for (const Variant variant : kKernelVariants) {
    const KernelCase c = medium_case(variant);
    const GuardedInputs in = make_guarded_inputs(c, /*seed=*/14);
    sageattn::AttentionOptions options = c.options();
    options.sm_scale = 0.3;  // peakier than 1/sqrt(128): larger scores stress exp2 and FP8 P
    const at::Tensor got = sageattn::attention(in.q, in.k, in.v, options).out;
    sageattn::AttentionOptions golden_options = options;
    golden_options.engine = Engine::kGolden;
    const at::Tensor golden =
        sageattn::reference::golden_attention(in.q, in.k, in.v, golden_options,
                                              sageattn::kernel_numerics(in.q, in.k, in.v, options))
            .out;
    const sageattn::ErrorMetrics err = sageattn::compare(got, golden);
    EXPECT_EQ(err.nonfinite, 0) << variant_name(variant);
    EXPECT_GE(err.cos_sim, 0.9999) << variant_name(variant) << ": " << err.str();
  }
}

// 128k tokens (a long video's sequence): every element finite, and the last Q rows, which see
// every key, still within the exact-attention floor. The FP8 P scale and the online softmax must
// not overflow over 1024 K blocks.
TEST(KernelApi, SageAt128kTokensStaysFiniteAndAccurate) {
  SKIP_WITHOUT_CUDA();
  KernelCase c;
  c.variant = Variant::kSage2Int8;
  c.batch = c.heads_q = c.heads_kv = 1;
  c.len_q = c.len_k = 131072;
  const GuardedInputs in = make_guarded_inputs(c, /*seed=*/15);
  const at::Tensor got = sageattn::attention(in.q, in.k, in.v, c.options()).out;
  EXPECT_EQ((~at::isfinite(got)).sum().item<int64_t>(), 0);
  const int64_t rows = 128;
  const at::Tensor exact = sageattn::reference::exact_attention_rows(
                               in.q, in.k, in.v, c.options(), c.len_q - rows, c.len_q)
                               .out;
  const sageattn::ErrorMetrics err = sageattn::compare(got.narrow(2, c.len_q - rows, rows), exact);
  std::printf("measured: sage2-8b L131072 last %lld rows vs exact: %s\n",
              static_cast<long long>(rows), err.str().c_str());
  EXPECT_GE(err.cos_sim, exact_bound(Variant::kSage2Int8).min_cos) << err.str();
}

// Above 128 channels no quantized kernel exists: engine kernel is refused naming the head dim,
// engine auto runs torch SDPA on the GPU (never the CPU golden model).
TEST(KernelApi, HeadDimAbove128RunsSdpaOrIsRefused) {
  SKIP_WITHOUT_CUDA();
  KernelCase c = medium_case(Variant::kSage2Int8);
  c.head_dim = 256;
  const GuardedInputs in = make_guarded_inputs(c, /*seed=*/16);
  const std::string why = sageattn::why_unsupported(in.q, in.k, in.v, c.options());
  EXPECT_NE(why.find("head_dim 256"), std::string::npos) << why;
  EXPECT_THROW(sageattn::attention(in.q, in.k, in.v, c.options()), c10::Error);
  sageattn::AttentionOptions auto_engine = c.options();
  auto_engine.engine = Engine::kAuto;
  EXPECT_TRUE(sageattn::why_unsupported(in.q, in.k, in.v, auto_engine).empty());
  const at::Tensor got = sageattn::attention(in.q, in.k, in.v, auto_engine).out;
  KernelCase sdpa_case = c;
  sdpa_case.variant = Variant::kFp16;
  const at::Tensor sdpa = sageattn::attention(in.q, in.k, in.v, sdpa_case.options()).out;
  EXPECT_TRUE(got.is_cuda());
  EXPECT_TRUE(at::equal(got, sdpa)) << "engine auto at head_dim 256 should run torch SDPA";
}

// Diffusion models project q, k, v with one matmul: [B, L, 3, H, D]. Views of it are NHD with a
// token stride of 3*H*D; strides are run-time arguments of the kernels, so these must run
// (or copy) and match the golden model of the same values.
TEST(KernelApi, StridedViewsOfAPackedQkvTensor) {
  SKIP_WITHOUT_CUDA();
  constexpr int64_t kBatch = 1, kLen = 300, kHeads = 4, kDim = 128;
  const at::Tensor qkv = at::randn({kBatch, kLen, 3, kHeads, kDim},
                                   at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16));
  const at::Tensor q = qkv.select(2, 0), k = qkv.select(2, 1), v = qkv.select(2, 2);
  for (const Variant variant : kKernelVariants) {
    sageattn::AttentionOptions options;
    options.variant = variant;
    options.engine = Engine::kKernel;
    options.layout = sageattn::Layout::kNHD;
    const at::Tensor got = sageattn::attention(q, k, v, options).out;
    const sageattn::KernelNumerics numerics = sageattn::kernel_numerics(q, k, v, options);
    options.engine = Engine::kGolden;
    const at::Tensor golden = sageattn::reference::golden_attention(
                                  q.contiguous(), k.contiguous(), v.contiguous(), options, numerics)
                                  .out;
    const at::Tensor exact =
        sageattn::reference::exact_attention(q.contiguous(), k.contiguous(), v.contiguous(), options)
            .out;
    const UlpStats ulp = ulp_distance(got, golden, at::kBFloat16);
    const GoldenBound golden_limit = golden_bound(variant, at::kBFloat16);
    EXPECT_EQ(ulp.nonfinite, 0) << variant_name(variant);
    EXPECT_LE(ulp.frac_over_8, golden_limit.max_frac_over_8_ulp)
        << variant_name(variant) << ": " << ulp.str();
    const double kernel_rel_l1 = sageattn::compare(got, exact).rel_l1;
    const double golden_rel_l1 = sageattn::compare(golden, exact).rel_l1;
    const ExactBound exact_limit = exact_bound(variant);
    EXPECT_LE(kernel_rel_l1, exact_limit.rel_l1_factor * golden_rel_l1 + exact_limit.rel_l1_slack)
        << variant_name(variant) << ": kernel relL1 " << kernel_rel_l1 << ", golden "
        << golden_rel_l1;
  }
}

}  // namespace
}  // namespace sagegen::kernel_tests
