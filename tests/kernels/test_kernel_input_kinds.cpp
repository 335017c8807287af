// sage2-8b on the Hopper issue's six input kinds (bench_input_kinds.h), whole output against
// exact FP64 attention: at least as accurate as the official SageAttention2 sm90 kernel, whose
// figures the issue lists (measured on other random draws of the same kinds, L4096 hd128).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "bench_input_kinds.h"
#include "sageattn/attention.h"
#include "sageattn/metrics.h"

namespace sagegen::kernel_tests {
namespace {

using bench::InputKind;

struct OfficialFigures {
  InputKind kind;
  double cos, rel_l1;
};
// The table (official sage2-8b vs FP64, cos / rel L1).
constexpr OfficialFigures kOfficial[] = {
    {InputKind::kGaussian, 0.99927, 0.0382},  {InputKind::kKBias, 0.99926, 0.0383},
    {InputKind::kQChannels, 0.99860, 0.0517}, {InputKind::kSharp, 0.99891, 0.0409},
    {InputKind::kQTokens, 0.99904, 0.0385},   {InputKind::kVTokens, 0.99935, 0.0351},
};
// The official kernel is not installed on the GPU machine, so the two were measured on different
// draws of each kind; the bounds allow that difference (5e-5 in cos, 5% in rel L1) and no more:
// per-warp Q scales (cos 0.99791 on the Q-channel kind, docs/benchmarks.md) fail them. The draw
// is the benchmark's (`--accuracy-cases`, kInputKindsSeed), so the figures are the documented ones.
constexpr double kCosSpread = 5e-5;
constexpr double kRelL1Spread = 1.05;

TEST(KernelInputKinds, Sage2Int8IsAsAccurateAsTheOfficialKernel) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  constexpr int64_t kBatch = 1, kHeads = 8, kLen = 4096, kHeadDim = 128;
  for (const OfficialFigures& official : kOfficial) {
    const bench::QKV x =
        bench::make_input_kind(official.kind, kBatch, kHeads, kLen, kHeadDim, bench::kInputKindsSeed);
    const at::Tensor q = x.q.to(at::kCUDA, at::kDouble), k = x.k.to(at::kCUDA, at::kDouble),
                     v = x.v.to(at::kCUDA, at::kDouble);
    const at::Tensor exact =
        at::matmul(at::softmax(at::matmul(q, k.transpose(2, 3)) / std::sqrt(double(kHeadDim)), -1),
                   v);
    sageattn::AttentionOptions options;
    options.variant = sageattn::Variant::kSage2Int8;
    options.engine = sageattn::Engine::kKernel;
    const at::Tensor got = sageattn::attention(x.q.to(at::kCUDA, at::kBFloat16),
                                               x.k.to(at::kCUDA, at::kBFloat16),
                                               x.v.to(at::kCUDA, at::kBFloat16), options)
                               .out.to(at::kDouble);
    const sageattn::ErrorMetrics err = sageattn::compare(got, exact);
    const std::string name = bench::input_kind_name(official.kind);
    std::printf("measured: input kind %s sage2-8b vs exact: %s (official cos %.5f relL1 %.4f)\n",
                name.c_str(), err.str().c_str(), official.cos, official.rel_l1);
    EXPECT_GE(err.cos_sim, official.cos - kCosSpread) << name << ": " << err.str();
    EXPECT_LE(err.rel_l1, official.rel_l1 * kRelL1Spread) << name << ": " << err.str();
  }
}

}  // namespace
}  // namespace sagegen::kernel_tests
