// The golden model's K and V token means are the correctly rounded means of the inputs: summed
// in FP64 (exact for these inputs), divided in FP64, rounded to FP32 once. The CUDA
// channel_stats kernel sums in another order; only an order-free mean lets the two agree bit for
// bit (docs/numerics.md, step 1).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "order_sensitive_tokens.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

constexpr int64_t kHeads = 2, kTokens = 4096, kDim = 64;

// [1, kHeads, kTokens, kDim]: see order_sensitive_tokens.h.
at::Tensor tokens(at::ScalarType dtype, uint64_t seed) {
  return test::order_sensitive_tokens({1, kHeads, kTokens, kDim}, dtype, seed);
}

struct Means {
  at::Tensor exactly_rounded;  // float((double) sum / N), [1, kHeads, 1, kDim]
  int naive_differs = 0;       // channels where a running FP32 sum / N gives another float
};

// Token means computed here, in plain loops, independently of the golden model.
Means means_by_loop(const at::Tensor& x) {
  const at::Tensor xf = x.to(at::kFloat).contiguous();
  const auto a = xf.accessor<float, 4>();
  Means m;
  m.exactly_rounded = at::empty({1, kHeads, 1, kDim}, at::kFloat);
  auto out = m.exactly_rounded.accessor<float, 4>();
  for (int64_t h = 0; h < kHeads; ++h) {
    for (int64_t c = 0; c < kDim; ++c) {
      double sum = 0.0;
      float naive = 0.0f;
      for (int64_t t = 0; t < kTokens; ++t) {
        sum += static_cast<double>(a[0][h][t][c]);
        naive += a[0][h][t][c];
      }
      out[0][h][0][c] = static_cast<float>(sum / static_cast<double>(kTokens));
      if (naive / static_cast<float>(kTokens) != out[0][h][0][c]) ++m.naive_differs;
    }
  }
  return m;
}

// Bitwise equality, with the first differing channel in the message.
void expect_bitwise_equal(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const at::Tensor g = got.to(at::kFloat).contiguous(), w = want.contiguous();
  const auto ga = g.accessor<float, 4>(), wa = w.accessor<float, 4>();
  int differ = 0;
  for (int64_t h = 0; h < kHeads; ++h) {
    for (int64_t c = 0; c < kDim; ++c) {
      if (ga[0][h][0][c] == wa[0][h][0][c]) continue;
      if (differ++ == 0) {
        ADD_FAILURE() << what << ": head " << h << " channel " << c << " is " << ga[0][h][0][c]
                      << ", the exactly rounded mean is " << wa[0][h][0][c];
      }
    }
  }
  EXPECT_EQ(differ, 0) << what << ": channels that are not the exactly rounded mean";
}

class ChannelMean : public ::testing::TestWithParam<at::ScalarType> {};

TEST_P(ChannelMean, KMeanIsTheExactlyRoundedMean) {
  const at::Tensor k = tokens(GetParam(), 31);
  const at::Tensor q = at::randn({1, kHeads, 128, kDim}).to(GetParam());
  const Means want = means_by_loop(k);
  // The inputs must make the summation order matter, or this test could not fail.
  ASSERT_GT(want.naive_differs, 0);
  AttentionOptions opts;  // smooth_k is on by default
  const reference::QuantizedQK qk = reference::quantize_qk(q, k, opts);
  expect_bitwise_equal(qk.k_mean, want.exactly_rounded, "k_mean");
}

TEST_P(ChannelMean, VMeanIsTheExactlyRoundedMean) {
  const at::Tensor v = tokens(GetParam(), 32);
  const Means want = means_by_loop(v);
  ASSERT_GT(want.naive_differs, 0);
  for (const Variant variant : {Variant::kSage2Int8, Variant::kSage1}) {
    AttentionOptions opts;
    opts.variant = variant;
    opts.smooth_v = true;
    const reference::QuantizedV qv = reference::quantize_v(v, opts);
    expect_bitwise_equal(qv.mean, want.exactly_rounded,
                         "v_mean of " + std::string(to_string(variant)));
  }
}

INSTANTIATE_TEST_SUITE_P(InputDtypes, ChannelMean, ::testing::Values(at::kHalf, at::kBFloat16),
                         [](const auto& info) {
                           return std::string(info.param == at::kHalf ? "fp16" : "bf16");
                         });

}  // namespace
}  // namespace sageattn
