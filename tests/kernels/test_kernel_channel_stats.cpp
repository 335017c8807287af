// The CUDA statistics kernel's K and V token means (K smoothing, V smoothing) equal the golden
// model's bit for bit, on inputs where an FP32 sum depends on its order: both are the exactly
// rounded mean of an exact FP64 sum (docs/numerics.md, step 1). A last-bit difference moves
// k - mean to another INT8 value and, in the first rows of a causal problem, costs hundreds of
// fp16 ULPs of output, so this is checked here directly rather than through the output.
#include <ATen/ATen.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>

#include "attention/order_sensitive_tokens.h"
#include "cuda_backend.h"
#include "problem.h"
#include "sageattn/reference.h"
#include "selector.h"

namespace sagegen::kernel_tests {
namespace {

using sageattn::Layout;
using sageattn::Variant;

struct StatsCase {
  int64_t len = 4096, head_dim = 64;
  at::ScalarType dtype = at::kHalf;
  Layout layout = Layout::kHND;
  Variant variant = Variant::kSage2Int8;

  std::string str() const {
    std::ostringstream s;
    // gtest names take no '-': sage2_8b for sage2-8b.
    s << (variant == Variant::kSage1 ? "sage1" : "sage2_8b") << "_"
      << (dtype == at::kHalf ? "fp16" : "bf16") << "_"
      << sageattn::to_string(layout) << "_L" << len << "_D" << head_dim;
    return s.str();
  }
};

void PrintTo(const StatsCase& c, std::ostream* os) { *os << c.str(); }

// [B, H, L, D] CPU HND values -> the case's layout on the GPU (contiguous).
at::Tensor on_gpu(const at::Tensor& hnd, Layout layout) {
  const at::Tensor laid = layout == Layout::kNHD ? hnd.transpose(1, 2) : hnd;
  return laid.contiguous().to(at::kCUDA);
}

// Bitwise equality of float32 tensors of one shape, with the count of differing channels.
void expect_bitwise_equal(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what << ": the kernel computed no mean";
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const int64_t differ = got.cpu().ne(want).sum().item<int64_t>();
  const double max_diff = (got.cpu() - want).abs().max().item<double>();
  EXPECT_EQ(differ, 0) << what << ": channels whose mean is not the golden model's (largest "
                       << "difference " << max_diff << ")";
}

// Runs one case's statistics on the current stream and compares them with the golden model's.
void expect_golden_means(const StatsCase& c) {
  const int64_t batch = 2, heads = 2;
  const at::Tensor k_hnd =
      sageattn::test::order_sensitive_tokens({batch, heads, c.len, c.head_dim}, c.dtype, 41);
  const at::Tensor v_hnd =
      sageattn::test::order_sensitive_tokens({batch, heads, c.len, c.head_dim}, c.dtype, 42);
  const at::Tensor q = on_gpu(at::randn({batch, heads, 128, c.head_dim}).to(c.dtype), c.layout);
  const at::Tensor k = on_gpu(k_hnd, c.layout), v = on_gpu(v_hnd, c.layout);

  sageattn::AttentionOptions options;
  options.variant = c.variant;
  options.engine = sageattn::Engine::kKernel;  // no SDPA fallback: a kernel, or the reason why not
  options.layout = c.layout;
  options.smooth_v = true;  // smooth_k is on by default
  const sageattn::Problem problem = sageattn::validate(q, k, v, options);
  const sageattn::Selection selection = sageattn::select_route(problem, options);
  if (selection.route != sageattn::Route::kCudaKernel) {
    GTEST_SKIP() << c.str() << " runs no CUDA kernel here: " << selection.reason;
  }
  const sageattn::cuda_backend::ChannelMeans kernel = sageattn::cuda_backend::channel_means(
      problem, selection.variant, selection.plan, q, k, v, options);

  // The golden model on the same values, [B, H, 1, D] -> [B, H, D].
  const at::Tensor golden_k = sageattn::reference::quantize_qk(q.cpu(), k.cpu(), options).k_mean;
  const at::Tensor golden_v = sageattn::reference::quantize_v(v.cpu(), options).mean;
  expect_bitwise_equal(kernel.k_mean, golden_k.squeeze(2), c.str() + " k_mean");
  expect_bitwise_equal(kernel.v_mean, golden_v.squeeze(2), c.str() + " v_mean");
}

class KernelChannelStats : public ::testing::TestWithParam<StatsCase> {};

TEST_P(KernelChannelStats, TokenMeansEqualTheGoldenModelBitwise) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  expect_golden_means(GetParam());
}

// The arrival counters of the statistics pass are one buffer per stream, never refilled: every
// pass must leave them at zero (atomicInc wraps them on the last arrival) whatever its split
// count. Passes of 32, 1 and 8 splits and 32 again, back to back on the current stream and then
// on a stream of the pool (a buffer of its own), must each still give the golden means: a
// counter left non-zero would skip or repeat a final reduction.
TEST(KernelChannelStatsCounters, PassesOfEverySplitCountLeaveTheStreamsCountersZero) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  c10::impl::VirtualGuardImpl cuda(at::kCUDA);
  const c10::Stream streams[] = {cuda.getStream(at::Device(at::kCUDA, 0)),
                                 cuda.getStreamFromGlobalPool(at::Device(at::kCUDA, 0))};
  for (const c10::Stream& stream : streams) {
    const c10::StreamGuard guard(stream);
    for (const int64_t len : {16411, 300, 4096, 16411}) {
      expect_golden_means({len, 128, at::kBFloat16, Layout::kHND, Variant::kSage2Int8});
    }
  }
}

// One split (300 tokens) and several (4096: 8 splits; 16411, odd: 32); both head dims; fp16 and
// bf16; NHD strides; the sage1 plan as well as sage2-8b's.
const StatsCase kCases[] = {
    {4096, 64, at::kHalf, Layout::kHND, Variant::kSage2Int8},
    {4096, 64, at::kBFloat16, Layout::kHND, Variant::kSage2Int8},
    {4096, 64, at::kHalf, Layout::kHND, Variant::kSage1},
    {300, 128, at::kHalf, Layout::kHND, Variant::kSage2Int8},
    {16411, 128, at::kBFloat16, Layout::kNHD, Variant::kSage2Int8},
};

INSTANTIATE_TEST_SUITE_P(Stats, KernelChannelStats, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.str(); });

}  // namespace
}  // namespace sagegen::kernel_tests
