// The dispatch routes that need CUDA tensors: fp16 through SDPA on the GPU (GQA, causal with
// L_q != L_k, NHD, LSE), engine golden with CUDA inputs, variant auto, and a quantized variant
// (kernel when compiled, the stub's refusal otherwise). Skipped on machines without a GPU.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include <cmath>

#include "attention_test_util.h"
#include "cuda_backend.h"
#include "sageattn/attention.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

test::Inputs on_cuda(const test::Inputs& in) {
  return {in.q.to(at::kCUDA), in.k.to(at::kCUDA), in.v.to(at::kCUDA)};
}

class CudaRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(CudaRoutes, Fp16SdpaMatchesExact) {
  for (at::ScalarType dtype : {at::kHalf, at::kBFloat16}) {
    for (Layout layout : {Layout::kHND, Layout::kNHD}) {
      for (auto [len_q, len_k] : {std::pair<int64_t, int64_t>{75, 1000}, {1000, 113}}) {
        const test::Inputs cpu = test::make_inputs({2, 8, 2, len_q, len_k, 128}, 9, dtype, layout);
        const test::Inputs gpu = on_cuda(cpu);
        AttentionOptions opts;
        opts.variant = Variant::kFp16;
        opts.layout = layout;
        opts.causal = true;
        opts.return_lse = true;
        const AttentionResult got = attention(gpu.q, gpu.k, gpu.v, opts);
        ASSERT_TRUE(got.out.is_cuda());
        const AttentionResult exact = reference::exact_attention(cpu.q, cpu.k, cpu.v, opts);
        const ErrorMetrics m = compare(got.out, exact.out);
        EXPECT_GT(m.cos_sim, 0.9999) << dtype << " " << to_string(layout) << " " << len_q << "x"
                                     << len_k << ": " << m.str();
        ASSERT_TRUE(got.lse.defined());
        EXPECT_LT((got.lse.cpu().to(at::kDouble) - exact.lse).abs().max().item<double>(), 1e-2);
      }
    }
  }
}

TEST_F(CudaRoutes, GoldenEngineAcceptsCudaTensors) {
  const test::Inputs cpu = test::make_inputs({1, 4, 2, 200, 300, 64}, 10);
  const test::Inputs gpu = on_cuda(cpu);
  AttentionOptions opts;
  opts.engine = Engine::kGolden;
  opts.causal = true;
  const at::Tensor got = attention(gpu.q, gpu.k, gpu.v, opts).out;
  EXPECT_TRUE(got.is_cuda());
  EXPECT_TRUE(at::equal(got.cpu(), reference::golden_attention(cpu.q, cpu.k, cpu.v, opts).out));
}

TEST_F(CudaRoutes, AutoAndQuantizedVariants) {
  const test::Inputs cpu = test::make_inputs({1, 4, 2, 500, 500, 128}, 11);
  const test::Inputs gpu = on_cuda(cpu);
  AttentionOptions opts;
  opts.variant = Variant::kAuto;
  const at::Tensor exact = reference::exact_attention(cpu.q, cpu.k, cpu.v, opts).out;
  const ErrorMetrics autom = compare(attention(gpu.q, gpu.k, gpu.v, opts).out, exact);
  EXPECT_GT(autom.cos_sim, 0.999) << autom.str();

  opts.variant = Variant::kSage2Int8;
  if (!cuda_backend::compiled()) {
    test::expect_error([&] { attention(gpu.q, gpu.k, gpu.v, opts); },
                       {"variant sage2-8b on cuda", "no CUDA kernels"});
    return;
  }
  const std::string why = why_unsupported(gpu.q, gpu.k, gpu.v, opts);
  if (!why.empty()) GTEST_SKIP() << "sage2-8b kernel unavailable here: " << why;
  const ErrorMetrics m = compare(attention(gpu.q, gpu.k, gpu.v, opts).out, exact);
  EXPECT_GT(m.cos_sim, 0.999) << m.str();
}

// The kernels' LSE follows the contract (docs/numerics.md step 7): natural log of the
// unsmoothed scores, so it must match exact attention's LSE as the golden model's does.
TEST_F(CudaRoutes, QuantizedKernelLseMatchesExact) {
  if (!cuda_backend::compiled()) GTEST_SKIP() << "no CUDA kernels in this build";
  const test::Inputs cpu = test::make_inputs({1, 4, 2, 500, 700, 128}, 12);
  const test::Inputs gpu = on_cuda(cpu);
  AttentionOptions opts;
  opts.return_lse = true;
  opts.causal = true;
  const std::string why = why_unsupported(gpu.q, gpu.k, gpu.v, opts);
  if (!why.empty()) GTEST_SKIP() << "sage2-8b kernel unavailable here: " << why;
  const AttentionResult got = attention(gpu.q, gpu.k, gpu.v, opts);
  ASSERT_TRUE(got.lse.defined());
  const at::Tensor exact_lse = reference::exact_attention(cpu.q, cpu.k, cpu.v, opts).lse;
  const at::Tensor golden_lse = reference::golden_attention(cpu.q, cpu.k, cpu.v, opts).lse;
  const double kernel_err = (got.lse.cpu().to(at::kDouble) - exact_lse).abs().mean().item<double>();
  const double golden_err = (golden_lse.to(at::kDouble) - exact_lse).abs().mean().item<double>();
  // Diagnoses the usual slip: the LSE of the smoothed scores (missing sm_scale * q . k_mean).
  const at::Tensor k_mean = reference::quantize_qk(cpu.q, cpu.k, opts).k_mean;  // [B, H_kv, 1, D]
  const at::Tensor shift = at::matmul(cpu.q.to(at::kDouble),
                                      k_mean.to(at::kDouble).repeat_interleave(2, 1).transpose(2, 3))
                               .squeeze(-1) / std::sqrt(128.0);
  const double smoothed_err =
      (got.lse.cpu().to(at::kDouble) - (exact_lse - shift)).abs().mean().item<double>();
  EXPECT_LT(kernel_err, 0.06) << "golden's mean LSE error: " << golden_err
                              << "; kernel vs the smoothed-score LSE: " << smoothed_err;
}

}  // namespace
}  // namespace sageattn
