// Smoothing identities: K smoothing does not change the softmax output, and Q smoothing with
// the delta_s term reproduces S; plus the golden model's stage outputs (means, delta_s).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "attention_test_util.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

constexpr double kLog2E = 1.4426950408889634;

// Values on a 2^-8 grid with magnitudes < 64: sums of a few hundred stay exact in FP32.
at::Tensor on_grid(const at::Tensor& x) { return at::round(x * 256.0) / 256.0; }

TEST(Smoothing, KMeanLeavesExactOutputUnchanged) {
  at::Generator gen = at::detail::createCPUGenerator(17);
  const int64_t len_k = 96, dim = 32;
  // k_hat with an exactly zero token mean (tokens come in +x / -x pairs), k = k_hat + bias.
  const at::Tensor half = on_grid(at::randn({1, 2, len_k / 2, dim}, gen));
  const at::Tensor k_hat = at::cat({half, -half}, 2);
  const at::Tensor bias = on_grid(4.0 * at::randn({1, 2, 1, dim}, gen));
  const at::Tensor k = k_hat + bias;
  const at::Tensor q = on_grid(at::randn({1, 2, 40, dim}, gen));
  const at::Tensor v = at::randn({1, 2, len_k, dim}, gen);
  for (bool causal : {false, true}) {
    AttentionOptions opts;
    opts.causal = causal;
    const AttentionResult with_bias = reference::exact_attention(q, k, v, opts);
    const AttentionResult smoothed = reference::exact_attention(q, k_hat, v, opts);
    EXPECT_LT((with_bias.out - smoothed.out).abs().max().item<double>(), 1e-12);
    // LSE is not invariant: it moves by exactly sm_scale * q . bias.
    const at::Tensor shift = at::matmul(q.to(at::kDouble), bias.to(at::kDouble).transpose(2, 3))
                                 .squeeze(-1) / std::sqrt(static_cast<double>(dim));
    EXPECT_LT((with_bias.lse - smoothed.lse - shift).abs().max().item<double>(), 1e-10);
  }
  // The golden model finds that bias as the K mean.
  AttentionOptions opts;
  const reference::QuantizedQK qk = reference::quantize_qk(q, k, opts);
  EXPECT_TRUE(at::allclose(qk.k_mean, bias, 0, 1e-6));
}

TEST(Smoothing, QBlockMeansAndDeltaS) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 300, 70, 64}, 3, at::kFloat);
  AttentionOptions opts;
  opts.smooth_q = true;  // off by default for sage2-8b
  const reference::QuantizedQK qk = reference::quantize_qk(in.q, in.k, opts);
  ASSERT_EQ(qk.q_mean.sizes(), (at::IntArrayRef{1, 2, 3, 64}));
  ASSERT_EQ(qk.delta_s.sizes(), (at::IntArrayRef{1, 2, 3, 70}));
  const int64_t bounds[] = {0, 128, 256, 300};  // the last block is partial
  const at::Tensor k_hat = in.k - in.k.mean(2, true);
  const double scale_log2 = kLog2E / 8.0;  // sm_scale 1/sqrt(64)
  for (int b = 0; b < 3; ++b) {
    const at::Tensor mean = in.q.slice(2, bounds[b], bounds[b + 1]).mean(2);
    EXPECT_TRUE(at::allclose(qk.q_mean.select(2, b), mean, 1e-5, 1e-6)) << "block " << b;
    const at::Tensor delta = at::matmul(mean.unsqueeze(2), k_hat.transpose(2, 3)).squeeze(2) *
                             scale_log2;
    EXPECT_TRUE(at::allclose(qk.delta_s.select(2, b), delta, 1e-4, 1e-5)) << "block " << b;
  }
}

// S rebuilt from the quantized operands plus delta_s equals the exact base-2 scores up to a
// per-row constant (q . k_mean, which softmax ignores), within the quantization error; without
// delta_s it is far off.
TEST(Smoothing, QSmoothingWithDeltaSReproducesS) {
  const test::Shape shape{1, 2, 2, 256, 192, 64};
  const test::Inputs in = test::make_inputs(shape, 8, at::kFloat);
  AttentionOptions opts;
  opts.smooth_q = true;  // off by default for sage2-8b
  const reference::QuantizedQK qk = reference::quantize_qk(in.q, in.k, opts);
  const at::Tensor q_deq = qk.q_values.to(at::kDouble) *
                           quant::scale_per_token(qk.q_scales, qk.q_groups).unsqueeze(-1).to(at::kDouble);
  const at::Tensor k_deq = qk.k_values.to(at::kDouble) *
                           quant::scale_per_token(qk.k_scales, qk.k_groups).unsqueeze(-1).to(at::kDouble);
  const at::Tensor row_block = at::floor_divide(at::arange(shape.len_q, at::kLong), 128);
  const at::Tensor delta_rows = qk.delta_s.index_select(2, row_block).to(at::kDouble);
  const at::Tensor s_without = at::matmul(q_deq, k_deq.transpose(2, 3));
  const at::Tensor s_rebuilt = s_without + delta_rows;

  const at::Tensor qd = in.q.to(at::kDouble), kd = in.k.to(at::kDouble);
  const at::Tensor k_hat = kd - kd.mean(2, true);
  const at::Tensor s_exact = at::matmul(qd, k_hat.transpose(2, 3)) * (kLog2E / 8.0);

  const ErrorMetrics rebuilt = compare(s_rebuilt, s_exact);
  const ErrorMetrics dropped = compare(s_without, s_exact);
  EXPECT_LT(rebuilt.nmse, 2e-3) << rebuilt.str();
  EXPECT_LT(rebuilt.nmse * 20.0, dropped.nmse) << rebuilt.str() << " vs " << dropped.str();
}

TEST(Smoothing, QSmoothingDefaultsOnForInt4Only) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 200, 70, 64}, 5, at::kFloat);
  for (const Variant variant : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
    AttentionOptions opts;
    opts.variant = variant;
    const reference::QuantizedQK qk = reference::quantize_qk(in.q, in.k, opts);
    const bool smoothed = qk.delta_s.abs().max().item<double>() > 0.0;
    EXPECT_EQ(smoothed, variant == Variant::kSage2Int4) << to_string(variant);
    EXPECT_EQ(smoothed, default_smooth_q(variant)) << to_string(variant);
  }
}

TEST(Smoothing, SmoothingImprovesInt4) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 512, 512, 128}, 41, at::kHalf);
  AttentionOptions smooth;
  smooth.variant = Variant::kSage2Int4;
  AttentionOptions raw = smooth;
  raw.smooth_q = raw.smooth_k = false;
  const at::Tensor exact = reference::exact_attention(in.q, in.k, in.v, smooth).out;
  const ErrorMetrics with = compare(reference::golden_attention(in.q, in.k, in.v, smooth).out, exact);
  const ErrorMetrics without = compare(reference::golden_attention(in.q, in.k, in.v, raw).out, exact);
  EXPECT_GT(with.cos_sim, without.cos_sim) << with.str() << " vs " << without.str();
  EXPECT_LT(with.rel_l1, without.rel_l1) << with.str() << " vs " << without.str();
}

TEST(Smoothing, VSmoothingMeanIsAddedBack) {
  const test::Inputs in = test::make_inputs({1, 1, 1, 64, 200, 32}, 12, at::kFloat);
  AttentionOptions opts;
  opts.smooth_v = true;
  const reference::QuantizedV qv = reference::quantize_v(in.v, opts);
  EXPECT_TRUE(at::allclose(qv.mean, in.v.mean(2, true), 1e-5, 1e-6));
  // Per-channel scales: the centred absmax over tokens / 448, and the largest element hits 448.
  const at::Tensor absmax = (in.v - qv.mean).abs().amax(2, true);
  EXPECT_TRUE(at::allclose(qv.scale, absmax / 448.0, 1e-6, 0));
  EXPECT_TRUE(at::allclose(qv.values.abs().amax(2, true), at::full_like(absmax, 448.0)));
  // sage1 keeps V in fp16 with unit scales.
  opts.variant = Variant::kSage1;
  const reference::QuantizedV v16 = reference::quantize_v(in.v, opts);
  EXPECT_TRUE(at::equal(v16.values, (in.v - v16.mean).to(at::kHalf).to(at::kFloat)));
  EXPECT_TRUE(at::equal(v16.scale, at::ones_like(v16.scale)));
}

}  // namespace
}  // namespace sageattn
