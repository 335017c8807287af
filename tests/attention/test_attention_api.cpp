// sageattn::attention(): every validation error with its message, and the dispatch routes that
// exist on a CPU-only machine (golden, SDPA with GQA/causal/layouts/LSE, refusals).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "attention_test_util.h"
#include "cuda_backend.h"
#include "selector.h"
#include "sageattn/attention.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

using test::expect_error;

at::Tensor hnd(int64_t b, int64_t h, int64_t l, int64_t d, at::ScalarType t = at::kHalf) {
  return at::randn({b, h, l, d}).to(t);
}

TEST(AttentionValidation, RankDtypeDeviceAndEmptiness) {
  const at::Tensor q = hnd(1, 2, 8, 64), k = hnd(1, 2, 8, 64), v = hnd(1, 2, 8, 64);
  expect_error([&] { attention(at::randn({2, 8, 64}).to(at::kHalf), k, v); },
               {"sageattn::attention: q must have 4 dims", "got 3", "[2, 8, 64]"});
  expect_error([&] { attention(q, at::Tensor(), v); }, {"k is an undefined tensor"});
  expect_error([&] { attention(q, k, hnd(1, 2, 8, 64, at::kDouble)); },
               {"v has dtype Double", "expected Half, BFloat16 or Float"});
  expect_error([&] { attention(q.to(at::kInt), k, v); }, {"q has dtype Int"});
  expect_error([&] { attention(q, hnd(1, 2, 8, 64, at::kBFloat16), v); },
               {"k has dtype BFloat16 but q has Half"});
  expect_error([&] { attention(q, k, hnd(1, 2, 8, 64, at::kFloat)); },
               {"v has dtype Float but q has Half"});
  expect_error([&] { attention(q, k.to(at::kMeta), v); }, {"k is on meta but q is on cpu"});
  expect_error([&] { attention(q, k, v.to(at::kMeta)); }, {"v is on meta but q is on cpu"});
  expect_error([&] { attention(hnd(1, 2, 0, 64), k, v); }, {"q is empty", "[1, 2, 0, 64]"});
  const at::Tensor strided = hnd(1, 2, 8, 128).slice(3, 0, 128, 2);  // stride 2 in head_dim
  expect_error([&] { attention(strided, k, v); },
               {"q must be contiguous in its last (head_dim) dim", "stride 2", ".contiguous()"});
}

TEST(AttentionValidation, ShapesMustAgree) {
  const at::Tensor q = hnd(2, 4, 8, 64), k = hnd(2, 2, 8, 64), v = hnd(2, 2, 8, 64);
  expect_error([&] { attention(q, hnd(1, 2, 8, 64), v); }, {"k has batch 1 but q has 2"});
  expect_error([&] { attention(q, k, hnd(3, 2, 8, 64)); }, {"v has batch 3 but q has 2"});
  expect_error([&] { attention(q, k, hnd(2, 1, 8, 64)); }, {"v has 1 heads but k has 2"});
  expect_error([&] { attention(q, hnd(2, 3, 8, 64), hnd(2, 3, 8, 64)); },
               {"q has 4 heads, not a multiple of k's 3 heads"});
  expect_error([&] { attention(q, k, hnd(2, 2, 9, 64)); }, {"v has 9 tokens but k has 8"});
  expect_error([&] { attention(q, hnd(2, 2, 8, 96), v); }, {"k has head_dim 96 but q has 64"});
  expect_error([&] { attention(q, k, hnd(2, 2, 8, 32)); }, {"v has head_dim 32 but q has 64"});
  expect_error([&] { attention(hnd(1, 1, 8, 8), hnd(1, 1, 8, 8), hnd(1, 1, 8, 8)); },
               {"head_dim 8 is outside [16, 256]"});
  expect_error([&] { attention(hnd(1, 1, 4, 512), hnd(1, 1, 4, 512), hnd(1, 1, 4, 512)); },
               {"head_dim 512 is outside [16, 256]"});
}

TEST(AttentionValidation, LayoutIsNamedInRankErrors) {
  AttentionOptions opts;
  opts.layout = Layout::kNHD;
  expect_error([&] { attention(at::randn({8, 2, 64}), at::randn({8, 2, 64}), at::randn({8, 2, 64}), opts); },
               {"[B, L, H, D] (NHD)"});
  // In NHD, dim 1 is tokens: a q of [1, 8, 3, 64] with k of [1, 8, 2, 64] is a GQA error.
  expect_error([&] { attention(at::randn({1, 8, 3, 64}), at::randn({1, 8, 2, 64}), at::randn({1, 8, 2, 64}), opts); },
               {"q has 3 heads, not a multiple of k's 2 heads"});
}

TEST(AttentionValidation, SmScale) {
  const at::Tensor q = hnd(1, 1, 8, 64);
  for (double bad : {0.0, -0.125, std::nan(""), std::numeric_limits<double>::infinity()}) {
    AttentionOptions opts;
    opts.sm_scale = bad;
    expect_error([&] { attention(q, q, q, opts); },
                 {"options.sm_scale must be finite and > 0, got"});
  }
}

TEST(AttentionDispatch, CpuQuantizedRunsTheGoldenModel) {
  const test::Inputs in = test::make_inputs({1, 4, 2, 130, 70, 64}, 3);
  for (Variant variant : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
    AttentionOptions opts;
    opts.variant = variant;
    opts.causal = true;
    EXPECT_EQ(why_unsupported(in.q, in.k, in.v, opts), "");
    EXPECT_TRUE(at::equal(attention(in.q, in.k, in.v, opts).out,
                          reference::golden_attention(in.q, in.k, in.v, opts).out));
  }
}

TEST(AttentionDispatch, AutoOnCpuIsFullPrecision) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 100, 100, 64}, 4, at::kFloat);
  AttentionOptions opts;
  opts.variant = Variant::kAuto;
  const ErrorMetrics m = compare(attention(in.q, in.k, in.v, opts).out,
                                 reference::exact_attention(in.q, in.k, in.v, opts).out);
  EXPECT_GT(m.cos_sim, 0.999999) << m.str();
  EXPECT_LT(m.max_abs, 1e-4) << m.str();
  // engine golden + auto on CPU is the FP32 golden of fp16.
  opts.engine = Engine::kGolden;
  AttentionOptions fp16 = opts;
  fp16.variant = Variant::kFp16;
  EXPECT_TRUE(at::equal(attention(in.q, in.k, in.v, opts).out,
                        reference::golden_attention(in.q, in.k, in.v, fp16).out));
}

// fp16 goes through torch SDPA: GQA, top-left causal with L_q != L_k, NHD and the LSE that
// SDPA does not return.
TEST(AttentionDispatch, Fp16SdpaMatchesExact) {
  for (Layout layout : {Layout::kHND, Layout::kNHD}) {
    for (auto [len_q, len_k] : {std::pair<int64_t, int64_t>{75, 113}, {113, 75}}) {
      const test::Inputs in = test::make_inputs({2, 4, 2, len_q, len_k, 64}, 6, at::kFloat, layout);
      AttentionOptions opts;
      opts.variant = Variant::kFp16;
      opts.layout = layout;
      opts.causal = true;
      opts.return_lse = true;
      opts.sm_scale = 0.1;
      const AttentionResult got = attention(in.q, in.k, in.v, opts);
      const AttentionResult exact = reference::exact_attention(in.q, in.k, in.v, opts);
      EXPECT_EQ(got.out.sizes(), in.q.sizes());
      EXPECT_LT((got.out.to(at::kDouble) - exact.out).abs().max().item<double>(), 1e-4)
          << to_string(layout) << " " << len_q << "x" << len_k;
      ASSERT_TRUE(got.lse.defined());
      EXPECT_EQ(got.lse.scalar_type(), at::kFloat);
      EXPECT_LT((got.lse.to(at::kDouble) - exact.lse).abs().max().item<double>(), 1e-4);
    }
  }
  // Half inputs on the CPU run too.
  const test::Inputs in = test::make_inputs({1, 2, 1, 64, 64, 64}, 6, at::kHalf);
  AttentionOptions opts;
  opts.variant = Variant::kFp16;
  EXPECT_GT(compare(attention(in.q, in.k, in.v, opts).out,
                    reference::exact_attention(in.q, in.k, in.v, opts).out).cos_sim, 0.99999);
}

TEST(AttentionDispatch, RefusalsNameTheConstraint) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 16, 16, 64}, 1);
  AttentionOptions opts;
  opts.engine = Engine::kKernel;
  const std::string why = why_unsupported(in.q, in.k, in.v, opts);
  EXPECT_NE(why.find("engine kernel needs CUDA tensors, but q is on cpu"), std::string::npos) << why;
  expect_error([&] { attention(in.q, in.k, in.v, opts); },
               {"sageattn::attention: engine kernel needs CUDA tensors"});
  // A quantized variant on a device with neither kernel nor golden route.
  AttentionOptions meta;
  expect_error([&] { attention(in.q.to(at::kMeta), in.k.to(at::kMeta), in.v.to(at::kMeta), meta); },
               {"variant sage2-8b has no kernel for device meta"});
  // why_unsupported reports validation failures instead of throwing.
  EXPECT_NE(why_unsupported(in.q, in.k, in.v.to(at::kFloat), {}).find("v has dtype Float"),
            std::string::npos);
}

TEST(AttentionDispatch, CudaBackendStubWhenNotCompiled) {
  if (cuda_backend::compiled()) GTEST_SKIP() << "this build has the CUDA kernels";
  Problem p;
  p.device = c10::Device(c10::kCUDA, 0);
  p.head_dim = 64;
  EXPECT_NE(select_route(p, AttentionOptions{}).reason.find("no CUDA kernels"), std::string::npos);
  const at::Tensor x = at::zeros({1, 1, 1, 16});
  expect_error([&] { cuda_backend::run(p, Variant::kSage2Int8, KernelPlan{}, x, x, x, {}); },
               {"sage2-8b", "no CUDA kernels"});
}

TEST(AttentionDispatch, QuantizeOnlyRefusesRequestsThatRunNoKernel) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 40, 40, 32}, 3);
  AttentionOptions golden;  // CPU tensors: sage2-8b runs on the golden model
  expect_error([&] { quantize_only(in.q, in.k, in.v, golden); },
               {"sageattn::quantize_only: variant sage2-8b does not run the CUDA kernels"});
  AttentionOptions fp16;
  fp16.variant = Variant::kFp16;
  expect_error([&] { quantize_only(in.q, in.k, in.v, fp16); }, {"variant fp16"});
  // Validation comes first, as in attention().
  expect_error([&] { quantize_only(in.q, in.k, in.v.to(at::kInt), golden); }, {"v has dtype Int"});
}

TEST(AttentionDispatch, ReturnsLseOnlyWhenAsked) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 40, 40, 32}, 2);
  AttentionOptions opts;
  EXPECT_FALSE(attention(in.q, in.k, in.v, opts).lse.defined());
  opts.return_lse = true;
  EXPECT_TRUE(attention(in.q, in.k, in.v, opts).lse.defined());
}

}  // namespace
}  // namespace sageattn
