// The wgmma kernel family's numerics in the golden model (tiles.h kWgmmaNumerics,
// docs/numerics.md "The wgmma family"): the measured FP8 wgmma accumulation rule as a scalar
// primitive, the vectorised block product built on it, and golden attention in that mode.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "attention_test_util.h"
#include "sageattn/metrics.h"
#include "sageattn/quant.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

float step(float c, const std::vector<float>& products) {
  return quant::wgmma_fp8_k32_step(c, products.data(), static_cast<int>(products.size()));
}
std::vector<float> repeat(int n, float x) { return std::vector<float>(n, x); }
float pow2(int e) { return std::ldexp(1.0f, e); }

// ---- The scalar rule: the facts measured on the H200 (hopper-path.md section 3) ----
TEST(WgmmaFp8Step, ReproducesTheMeasuredFacts) {
  // Terms below 2^(E-13) of the largest vanish, truncated toward zero (not floor).
  EXPECT_EQ(step(448.0f, repeat(31, pow2(-6))), 448.0f);
  EXPECT_EQ(step(-448.0f, repeat(31, -pow2(-6))), -448.0f);
  EXPECT_EQ(step(448.0f, repeat(31, -pow2(-6))), 448.0f);
  // C = 2^e plus 32 x 1.0: exact up to e = 13, all lost from e = 14.
  for (int e = 0; e <= 13; ++e) EXPECT_EQ(step(pow2(e), repeat(32, 1.0f)), pow2(e) + 32.0f) << e;
  for (int e = 14; e <= 24; ++e) EXPECT_EQ(step(pow2(e), repeat(32, 1.0f)), pow2(e)) << e;
  // Each product is truncated on its own: 32 x 1.5 at E = 13 adds 32.
  EXPECT_EQ(step(pow2(13), repeat(32, 1.5f)), pow2(13) + 32.0f);
  // C itself is truncated: 1 + 2^-k survives up to k = 13.
  for (int k = 1; k <= 13; ++k) EXPECT_EQ(step(1.0f + pow2(-k), repeat(32, 0.0f)), 1.0f + pow2(-k)) << k;
  for (int k = 14; k <= 23; ++k) EXPECT_EQ(step(1.0f + pow2(-k), repeat(32, 0.0f)), 1.0f) << k;
  // The sum is truncated to 14 significant bits: 8191.5 + 32 = 8223.5 -> 8223.
  EXPECT_EQ(step(8191.5f, repeat(32, 1.0f)), 8223.0f);
  EXPECT_EQ(step(-8191.5f, repeat(32, -1.0f)), -8223.0f);
  // Nothing but zeros.
  EXPECT_EQ(step(0.0f, repeat(32, 0.0f)), 0.0f);
  EXPECT_EQ(step(0.0f, {}), 0.0f);
  // Cancellation keeps the alignment grid of the largest term, no further loss.
  EXPECT_EQ(step(448.0f, {-448.0f, pow2(-5), pow2(-6)}), pow2(-5));
  test::expect_error([] { step(0.0f, repeat(33, 1.0f)); }, {"wgmma_fp8_k32_step", "33"});
}

// E4M3 values: p in [0, 256] (as kExp2Offset8 makes them, with zeros), v signed up to 448.
at::Tensor random_p(at::IntArrayRef shape, at::Generator& gen) {
  const at::Tensor x = at::exp2(at::rand(shape, gen) * 24.0f - 16.0f);  // 2^-16 .. 2^8
  return quant::e4m3_round(at::where(at::rand(shape, gen) < 0.1f, at::zeros_like(x), x));
}
at::Tensor random_v(at::IntArrayRef shape, at::Generator& gen) {
  return quant::e4m3_round(at::randn(shape, gen) * 120.0f);
}

// The chain of scalar steps for every output element, in plain loops.
at::Tensor scalar_block_product(const at::Tensor& p, const at::Tensor& v) {
  const at::Tensor pc = p.contiguous(), vc = v.contiguous();
  const int64_t n = pc.size(0), rows = pc.size(1), keys = pc.size(2), dim = vc.size(2);
  const auto pa = pc.accessor<float, 3>();
  const auto va = vc.accessor<float, 3>();
  at::Tensor out = at::zeros({n, rows, dim});
  auto oa = out.accessor<float, 3>();
  std::vector<float> products;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t d = 0; d < dim; ++d) {
        float c = 0.0f;
        for (int64_t k0 = 0; k0 < keys; k0 += quant::kWgmmaFp8StepKeys) {
          products.clear();
          for (int64_t k = k0; k < std::min(keys, k0 + quant::kWgmmaFp8StepKeys); ++k) {
            products.push_back(pa[b][r][k] * va[b][k][d]);
          }
          c = step(c, products);
        }
        oa[b][r][d] = c;
      }
  return out;
}

TEST(WgmmaFp8BlockProduct, EqualsTheScalarChain) {
  at::Generator gen = at::detail::createCPUGenerator(7);
  for (int64_t keys : {1, 31, 32, 70, 128}) {
    const at::Tensor p = random_p({3, 9, keys}, gen);
    const at::Tensor v = random_v({3, keys, 40}, gen);
    const at::Tensor fast = quant::fp8_wgmma_block_product(p, v);
    EXPECT_TRUE(at::equal(fast, scalar_block_product(p, v))) << "keys " << keys;
    // The exact product is close (to ~2^-13 of the largest term per step) but not equal.
    EXPECT_TRUE(at::allclose(fast, at::matmul(p.to(at::kDouble), v.to(at::kDouble)).to(at::kFloat),
                             0.0, 1e-3 * v.abs().max().item<double>() * 256.0));
  }
  // Signed P (not what attention feeds, but the rule is sign-symmetric).
  const at::Tensor p = random_p({2, 5, 96}, gen) * (at::rand({2, 5, 96}, gen) < 0.5f).to(at::kFloat).mul(2).sub(1);
  const at::Tensor v = random_v({2, 96, 16}, gen);
  EXPECT_TRUE(at::equal(quant::fp8_wgmma_block_product(p, v), scalar_block_product(p, v)));
}

TEST(WgmmaFp8BlockProduct, BroadcastsAndZeroPads) {
  at::Generator gen = at::detail::createCPUGenerator(8);
  const at::Tensor p = random_p({1, 4, 6, 75}, gen);
  const at::Tensor v = random_v({1, 1, 75, 24}, gen);  // one KV head for four query heads
  const at::Tensor out = quant::fp8_wgmma_block_product(p, v);
  ASSERT_EQ(out.sizes(), (at::IntArrayRef{1, 4, 6, 24}));
  // A partial last step is the zero-padded one (the kernels pad keys to the block).
  const at::Tensor padded = quant::fp8_wgmma_block_product(at::constant_pad_nd(p, {0, 53}),
                                                           at::constant_pad_nd(v, {0, 0, 0, 53}));
  EXPECT_TRUE(at::equal(out, padded));
  EXPECT_TRUE(at::equal(out.select(1, 2),
                        quant::fp8_wgmma_block_product(p.select(1, 2), v.select(1, 0))));
  test::expect_error([&] { quant::fp8_wgmma_block_product(p, v.narrow(2, 0, 74)); },
                     {"fp8_wgmma_block_product", "75 keys", "74"});
}

TEST(WgmmaFp8BlockProduct, ChainsTheStepsThroughOneAccumulator) {
  // Step 1 (keys 0-31) leaves C = 448; step 2 adds 31 x 2^-6, which vanish against it, though
  // they would survive on their own.
  at::Tensor p = at::zeros({1, 1, 64});
  at::Tensor v = at::zeros({1, 64, 2});
  p[0][0][0] = 1.0f;
  v[0][0][0] = 448.0f;
  p[0][0].narrow(0, 32, 31).fill_(0.125f);
  v[0].narrow(0, 32, 31).fill_(0.125f);
  const at::Tensor out = quant::fp8_wgmma_block_product(p, v);
  EXPECT_EQ(out[0][0][0].item<float>(), 448.0f);
  EXPECT_EQ(out[0][0][1].item<float>(), 31.0f / 64.0f);
  EXPECT_EQ(at::matmul(p, v)[0][0][0].item<float>(), 448.0f + 31.0f / 64.0f);
}

// Manual: ./test_attention --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Speed*'
TEST(WgmmaFp8BlockProduct, DISABLED_Speed) {
  at::Generator gen = at::detail::createCPUGenerator(9);
  for (auto [heads, keys] : {std::pair<int64_t, int64_t>{2, 4096}, {1, 32768}}) {
    const at::Tensor p = random_p({1, heads, 128, keys}, gen);
    const at::Tensor v = random_v({1, heads, keys, 128}, gen);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t k0 = 0; k0 < keys; k0 += kWgmmaTiles.block_k) {
      quant::fp8_wgmma_block_product(p.narrow(3, k0, kWgmmaTiles.block_k),
                                     v.narrow(2, k0, kWgmmaTiles.block_k));
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("fp8_wgmma_block_product, 128 rows x %lld heads x %lld keys x D 128 in blocks "
                "of 128: %.3f s (%d threads)\n",
                static_cast<long long>(heads), static_cast<long long>(keys), s,
                at::get_num_threads());
    AttentionOptions opts;
    const test::Inputs in = test::make_inputs({1, heads, heads, keys, keys, 128}, 3);
    for (const KernelNumerics& numerics : {kMmaNumerics, kWgmmaNumerics}) {
      const auto t1 = std::chrono::steady_clock::now();
      reference::golden_attention_rows(in.q, in.k, in.v, opts, 0, 128, numerics);
      const double g =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      std::printf("golden_attention_rows (%s), 128 rows of that problem: %.3f s\n",
                  numerics.tiles.block_k == kWgmmaTiles.block_k ? "kWgmmaNumerics" : "kMmaNumerics",
                  g);
    }
  }
}

// ---- Golden attention with the wgmma numerics ----
constexpr KernelNumerics kWgmmaExact{kWgmmaTiles, PScale::kExp2Offset8,
                                     PvAccumulation::kExactFp32};
constexpr KernelNumerics kWgmmaTimes448{kWgmmaTiles, PScale::kTimes448,
                                        PvAccumulation::kExactFp32};
// The truncating PV product with the row sum taken from the FP32 P (the kernel before the
// tensor-core row sum): isolates the truncation of O.
constexpr KernelNumerics kWgmmaFp32RowSum{kWgmmaTiles, PScale::kExp2Offset8,
                                          PvAccumulation::kWgmmaTruncating, RowSum::kFp32P};

// The GoldenShapes sweep style: odd lengths, L_q != L_k, GQA, causal, both layouts.
const test::ShapeCase kWgmmaCases[] = {
    {{1, 2, 2, 1, 1, 64}, Variant::kSage2Int8, false, Layout::kHND, at::kHalf, 0.999},
    {{1, 2, 2, 1, 75, 64}, Variant::kSage2Int8, true, Layout::kHND, at::kHalf, 0.999},
    {{1, 2, 2, 75, 75, 64}, Variant::kSage2Int8, true, Layout::kNHD, at::kBFloat16, 0.999},
    {{1, 2, 2, 113, 75, 128}, Variant::kSage2Int8, false, Layout::kNHD, at::kHalf, 0.999},
    {{1, 2, 2, 113, 1000, 64}, Variant::kSage2Int8, true, Layout::kHND, at::kBFloat16, 0.999},
    {{1, 4, 1, 1000, 113, 64}, Variant::kSage2Int8, true, Layout::kHND, at::kHalf, 0.999},
    {{2, 4, 2, 75, 113, 16}, Variant::kSage2Int8, false, Layout::kNHD, at::kHalf, 0.999},
    {{1, 2, 2, 113, 300, 128}, Variant::kSage2Int8, false, Layout::kNHD, at::kBFloat16, 0.999},
    {{1, 2, 2, 75, 1000, 64}, Variant::kSage2Int4, false, Layout::kHND, at::kBFloat16, 0.95},
};

TEST(GoldenWgmma, MatchesExactAttention) {
  for (const test::ShapeCase& c : kWgmmaCases) test::expect_golden_matches_exact(c, kWgmmaNumerics);
}

// The accuracy-table inputs (GoldenAccuracy): the wgmma numerics meet sage2-8b's bounds there.
// Measured (docs/numerics.md): cos 0.999796, rel L1 0.0168 (exact-FP32 PV with the same tiles
// and offset: 0.999797, 0.0167; the mma numerics: 0.999796, 0.0167).
TEST(GoldenWgmma, WithinTheSage2Int8AccuracyBound) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 1024, 1024, 128}, 2024, at::kHalf);
  AttentionOptions opts;
  const at::Tensor exact = reference::exact_attention(in.q, in.k, in.v, opts).out;
  const ErrorMetrics m =
      compare(reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaNumerics).out, exact);
  std::printf("| sage2-8b K+Q, wgmma numerics | %.6f | %.4f | %.3e |\n", m.cos_sim, m.rel_l1,
              m.nmse);
  EXPECT_GE(m.cos_sim, 0.9995) << m.str();
  EXPECT_LE(m.rel_l1, 0.025) << m.str();
  EXPECT_EQ(m.nonfinite, 0);
}

// kExp2Offset8 and kTimes448 differ only in where P8 rounds (P * 256 vs P * 448): close
// outputs; and l sums the unquantized P in both, so the LSE agrees to FP32 rounding.
TEST(GoldenWgmma, OffsetEightAgreesWithTimes448) {
  const test::Inputs in = test::make_inputs({1, 4, 2, 200, 300, 64}, 31, at::kFloat);
  for (bool causal : {false, true}) {
    AttentionOptions opts;
    opts.causal = causal;
    opts.return_lse = true;
    const AttentionResult a = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaTimes448);
    const AttentionResult b = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaExact);
    EXPECT_FALSE(at::equal(a.out, b.out));
    const ErrorMetrics m = compare(b.out, a.out.to(at::kDouble));
    // Measured (non-causal): cos 0.999948, rel L1 0.0083.
    EXPECT_GE(m.cos_sim, 0.9999) << m.str();
    EXPECT_LE(m.rel_l1, 0.015) << m.str();
    EXPECT_LT((a.lse - b.lse).abs().max().item<float>(), 1e-4f);
  }
}

// The truncating accumulation is on (a test that fails if the mode were ignored), small, and
// biased toward zero: with V > 0 (no V smoothing) every product is >= 0, every truncation
// lowers, and O comes out below the exact-FP32 block products' everywhere.
TEST(GoldenWgmma, TruncationIsSmallAndBiasedTowardZero) {
  test::Inputs in = test::make_inputs({1, 2, 2, 150, 400, 64}, 41, at::kFloat);
  in.v = in.v.abs() + 0.25f;
  AttentionOptions opts;
  opts.return_lse = true;
  const AttentionResult exact = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaExact);
  const AttentionResult trunc = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaFp32RowSum);
  EXPECT_FALSE(at::equal(trunc.out, exact.out));
  EXPECT_TRUE(at::equal(trunc.lse, exact.lse));  // l sums the unquantized P: unaffected
  const at::Tensor rel = (trunc.out - exact.out) / exact.out;
  const double mean = rel.mean().item<double>();
  std::printf("truncating vs exact FP32 PV: relative difference mean %.3g, min %.3g, max %.3g\n",
              mean, rel.min().item<double>(), rel.max().item<double>());
  // Measured: mean -1.2e-3, min -3.9e-3, max -8.8e-5. The chain is what makes it this large:
  // from the second k-step on, E is C's exponent, so each product loses up to 2^-13 of the
  // running block sum, not of itself.
  EXPECT_LE(rel.max().item<double>(), 1e-6);  // FP32 rounding of the exact sum at most
  EXPECT_LT(mean, -2e-4);
  EXPECT_GT(rel.min().item<double>(), -1e-2);
  // Mixed-sign V: still small, still different.
  const test::Inputs mixed = test::make_inputs({1, 2, 2, 150, 400, 64}, 41, at::kFloat);
  const at::Tensor a = reference::golden_attention(mixed.q, mixed.k, mixed.v, opts, kWgmmaExact).out;
  const at::Tensor b = reference::golden_attention(mixed.q, mixed.k, mixed.v, opts, kWgmmaFp32RowSum).out;
  EXPECT_FALSE(at::equal(a, b));
  EXPECT_LT((a - b).abs().max().item<double>(), 5e-3 * a.abs().max().item<double>());
}

// The kernel's row sum is the PV product's ones column (RowSum::kFp8PTensor): the same FP8 P and
// the same truncating chain as O, so O / l divides by the weights actually applied and the
// truncation's downward bias largely cancels; the LSE moves by the FP8 rounding of P only.
TEST(GoldenWgmma, TensorRowSumCancelsTheTruncationBias) {
  test::Inputs in = test::make_inputs({1, 2, 2, 150, 400, 64}, 41, at::kFloat);
  in.v = in.v.abs() + 0.25f;
  AttentionOptions opts;
  opts.return_lse = true;
  const AttentionResult exact = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaExact);
  const AttentionResult fp32_sum = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaFp32RowSum);
  const AttentionResult tensor_sum = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaNumerics);
  EXPECT_FALSE(at::equal(tensor_sum.out, fp32_sum.out));  // the mode is not ignored
  const double bias_fp32 = ((fp32_sum.out - exact.out) / exact.out).mean().item<double>();
  const double bias_tensor = ((tensor_sum.out - exact.out) / exact.out).mean().item<double>();
  std::printf("mean relative difference from exact FP32 PV: FP32 row sum %.3g, tensor row sum %.3g\n",
              bias_fp32, bias_tensor);
  EXPECT_LT(std::abs(bias_tensor), 0.5 * std::abs(bias_fp32));
  const double lse_shift = (tensor_sum.lse - exact.lse).abs().max().item<double>();
  EXPECT_GT(lse_shift, 0.0);
  EXPECT_LT(lse_shift, 2e-2);  // ln of a relative row-sum change of a few 1e-3 at most
  // And against exact attention the tensor row sum is at least as accurate.
  const at::Tensor truth = reference::exact_attention(in.q, in.k, in.v, opts).out;
  EXPECT_LE(compare(tensor_sum.out, truth).rel_l1, compare(fp32_sum.out, truth).rel_l1 * 1.02);
}

// sage1 has no FP8 P: p_scale and pv_accumulation change nothing there, only the tiles do.
TEST(GoldenWgmma, Sage1IgnoresTheFp8Modes) {
  const test::Inputs in = test::make_inputs({1, 2, 1, 150, 200, 32}, 5);
  AttentionOptions opts;
  opts.variant = Variant::kSage1;
  opts.return_lse = true;
  const AttentionResult a = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaNumerics);
  const AttentionResult b = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaTimes448);
  EXPECT_TRUE(at::equal(a.out, b.out));
  EXPECT_TRUE(at::equal(a.lse, b.lse));
}

// The tiles are the wgmma ones: 128-key blocks move K's per-block scale groups and the softmax
// step, so the result differs from the mma tiles with otherwise equal numerics.
TEST(GoldenWgmma, UsesTheWgmmaTiles) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 130, 300, 64}, 6);
  AttentionOptions opts;
  const KernelNumerics mma_exact_offset{kMmaTiles, PScale::kExp2Offset8, PvAccumulation::kExactFp32};
  EXPECT_FALSE(at::equal(reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaExact).out,
                         reference::golden_attention(in.q, in.k, in.v, opts, mma_exact_offset).out));
}

// As GoldenShapes.RowSlicesEqualTheFullRun, with the allowance of
// test::expect_row_slices_equal_the_full_run for P8 rounding moves (measured here: 2 of 256
// (row, head) pairs moved, 0.033 at most; the other rows agree to 1e-3). Whole Q blocks of the
// wgmma tiles: a middle block and the partial last one.
TEST(GoldenWgmma, RowSlicesEqualTheFullRun) {
  const test::Inputs in = test::make_inputs({1, 2, 1, 400, 300, 64}, 77, at::kHalf, Layout::kNHD);
  AttentionOptions opts;
  opts.causal = true;
  opts.layout = Layout::kNHD;
  opts.return_lse = true;
  const int64_t bq = kWgmmaTiles.block_q;
  test::expect_row_slices_equal_the_full_run(in, opts, kWgmmaNumerics, {{bq, 2 * bq}, {2 * bq, 400}});
}

}  // namespace
}  // namespace sageattn
