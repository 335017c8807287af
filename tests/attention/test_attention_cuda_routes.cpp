// The dispatch routes that need CUDA tensors: fp16 through SDPA on the GPU (GQA, causal with
// L_q != L_k, NHD, LSE), engine golden with CUDA inputs, variant auto, and a quantized variant
// (kernel when compiled, the stub's refusal otherwise). Skipped on machines without a GPU.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sageattn
