// The golden model across shapes that do not line up with tiles, GQA, causal masks, layouts,
// dtypes and head dims; its row slices; and a plain-loop rendition of steps 4-7 that the
// vectorised golden model must agree with.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "attention_test_util.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

using test::ShapeCase;

std::vector<ShapeCase> shape_cases() {
  using test::Shape;
  const auto i8 = Variant::kSage2Int8, i4 = Variant::kSage2Int4, s1 = Variant::kSage1;
  const auto hnd = Layout::kHND, nhd = Layout::kNHD;
  const auto f16 = at::kHalf, b16 = at::kBFloat16;
  return {
      {Shape{1, 2, 2, 1, 1, 64}, i8, false, hnd, f16, 0.999},
      {Shape{1, 2, 2, 1, 75, 64}, i8, true, hnd, f16, 0.999},
      {Shape{1, 2, 2, 75, 75, 64}, i8, true, nhd, b16, 0.999},
      {Shape{1, 2, 2, 113, 75, 128}, i8, false, nhd, f16, 0.999},
      {Shape{1, 2, 2, 113, 1000, 64}, i8, true, hnd, b16, 0.999},
      {Shape{1, 4, 1, 1000, 113, 64}, i8, true, hnd, f16, 0.999},
      {Shape{2, 4, 2, 75, 113, 16}, i8, false, nhd, f16, 0.999},
      {Shape{1, 2, 2, 113, 113, 72}, i8, true, hnd, b16, 0.999},
      {Shape{1, 2, 1, 113, 200, 256}, i8, false, nhd, b16, 0.999},
      {Shape{1, 6, 2, 300, 300, 128}, i4, true, nhd, f16, 0.95},
      {Shape{1, 2, 2, 75, 1000, 64}, i4, false, hnd, b16, 0.95},
      {Shape{1, 4, 2, 113, 75, 72}, s1, true, nhd, b16, 0.999},
      {Shape{1, 2, 2, 1000, 75, 256}, s1, false, hnd, f16, 0.999},
  };
}

class GoldenShapes : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(GoldenShapes, MatchesExactAttention) {
  test::expect_golden_matches_exact(GetParam(), kMmaNumerics);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenShapes, ::testing::ValuesIn(shape_cases()),
                         [](const ::testing::TestParamInfo<ShapeCase>& info) {
                           return "case" + std::to_string(info.index);
                         });

TEST(GoldenShapes, LayoutsGiveTheSameNumbers) {
  const test::Shape shape{1, 4, 2, 113, 75, 64};
  const test::Inputs hnd = test::make_inputs(shape, 5, at::kHalf, Layout::kHND);
  const test::Inputs nhd = test::make_inputs(shape, 5, at::kHalf, Layout::kNHD);
  AttentionOptions opts;
  opts.causal = true;
  const at::Tensor a = reference::golden_attention(hnd.q, hnd.k, hnd.v, opts).out;
  opts.layout = Layout::kNHD;
  const at::Tensor b = reference::golden_attention(nhd.q, nhd.k, nhd.v, opts).out;
  EXPECT_TRUE(at::equal(a, b.transpose(1, 2)));
}

TEST(GoldenShapes, RowSlicesEqualTheFullRun) {
  const test::Shape shape{1, 2, 1, 400, 300, 64};
  for (Layout layout : {Layout::kHND, Layout::kNHD}) {
    const test::Inputs in = test::make_inputs(shape, 77, at::kHalf, layout);
    AttentionOptions opts;
    opts.causal = true;
    opts.layout = layout;
    opts.return_lse = true;
    const int64_t tdim = layout == Layout::kNHD ? 1 : 2;
    for (Variant variant : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
      opts.variant = variant;
      const AttentionResult full = reference::golden_attention(in.q, in.k, in.v, opts);
      for (auto [begin, end] : {std::pair<int64_t, int64_t>{128, 256}, {256, 400}, {0, 128}}) {
        const AttentionResult part =
            reference::golden_attention_rows(in.q, in.k, in.v, opts, begin, end);
        // Equal up to FP32 summation order (BLAS blocks differently for other row counts).
        EXPECT_TRUE(at::allclose(part.out.to(at::kFloat),
                                 full.out.narrow(tdim, begin, end - begin).to(at::kFloat), 1e-3, 1e-3))
            << to_string(variant) << " rows " << begin << "-" << end;
        EXPECT_TRUE(at::allclose(part.lse, full.lse.narrow(2, begin, end - begin), 1e-5, 1e-5));
      }
    }
    const AttentionResult exact = reference::exact_attention(in.q, in.k, in.v, opts);
    const AttentionResult rows = reference::exact_attention_rows(in.q, in.k, in.v, opts, 100, 173);
    EXPECT_TRUE(at::allclose(rows.out, exact.out.narrow(tdim, 100, 73), 1e-12, 1e-13));
  }
}

TEST(GoldenShapes, RowSlicesMustBeWholeQBlocks) {
  const test::Inputs in = test::make_inputs({1, 1, 1, 300, 64, 64}, 1);
  AttentionOptions opts;
  test::expect_error(
      [&] { reference::golden_attention_rows(in.q, in.k, in.v, opts, 100, 228); },
      {"golden_attention_rows", "[100, 228)", "block_q 128"});
  test::expect_error(
      [&] { reference::golden_attention_rows(in.q, in.k, in.v, opts, 0, 301); },
      {"golden_attention_rows", "[0, 301)", "not inside [0, 300)"});
  test::expect_error(
      [&] { reference::exact_attention_rows(in.q, in.k, in.v, opts, 5, 5); },
      {"exact_attention_rows", "[5, 5)"});
}

TEST(GoldenShapes, AutoVariantIsRefused) {
  const test::Inputs in = test::make_inputs({1, 1, 1, 16, 16, 16}, 1);
  AttentionOptions opts;
  opts.variant = Variant::kAuto;
  test::expect_error([&] { reference::golden_attention(in.q, in.k, in.v, opts); },
                     {"golden_attention", "auto"});
}

// ---- Steps 4-7 as plain loops over one query row at a time ----
at::Tensor loop_golden(const reference::QuantizedQK& qk, const reference::QuantizedV& qv,
                       Variant variant, bool causal, const KernelNumerics& numerics) {
  const TileShape tiles = numerics.tiles;
  const bool fp8 = variant != Variant::kSage1;
  const bool offset8 = fp8 && numerics.p_scale == PScale::kExp2Offset8;
  const bool truncating = fp8 && numerics.pv_accumulation == PvAccumulation::kWgmmaTruncating;
  const bool tensor_row_sum = fp8 && numerics.row_sum == RowSum::kFp8PTensor;
  const int64_t batch = qk.q_values.size(0), heads_q = qk.q_values.size(1);
  const int64_t len_q = qk.q_values.size(2), dim = qk.q_values.size(3);
  const int64_t heads_kv = qk.k_values.size(1), len_k = qk.k_values.size(2);
  const auto qv_ = qk.q_values.accessor<int8_t, 4>();
  const auto kv_ = qk.k_values.accessor<int8_t, 4>();
  const auto qs = qk.q_scales.accessor<float, 3>();
  const auto ks = qk.k_scales.accessor<float, 3>();
  const auto qg = qk.q_groups.group_of_token.accessor<int64_t, 1>();
  const auto kg = qk.k_groups.group_of_token.accessor<int64_t, 1>();
  const auto delta = qk.delta_s.accessor<float, 4>();
  const auto vv = qv.values.accessor<float, 4>();
  const auto vscale = qv.scale.accessor<float, 4>();
  const auto vmean = qv.mean.accessor<float, 4>();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  at::Tensor out = at::zeros({batch, heads_q, len_q, dim});
  auto o = out.accessor<float, 4>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads_q; ++h)
      for (int64_t i = 0; i < len_q; ++i) {
        const int64_t hk = h / (heads_q / heads_kv);
        float m = -kInf, l = 0.0f;
        std::vector<float> buf(dim, 0.0f);
        for (int64_t k0 = 0; k0 < len_k; k0 += tiles.block_k) {
          const int64_t k1 = std::min(len_k, k0 + tiles.block_k);
          std::vector<float> s(k1 - k0);
          for (int64_t j = k0; j < k1; ++j) {
            int32_t dot = 0;
            for (int64_t d = 0; d < dim; ++d) dot += int32_t{qv_[b][h][i][d]} * kv_[b][hk][j][d];
            float sj = static_cast<float>(dot) * qs[b][h][qg[i]];
            sj = sj * ks[b][hk][kg[j]] + delta[b][h][i / tiles.block_q][j];
            s[j - k0] = causal && j > i ? -kInf : sj;
          }
          float m_new = m;
          for (float x : s) m_new = std::max(m_new, x);
          if (m_new == -kInf) continue;  // nothing visible yet: P = 0, alpha = 1
          const float alpha = std::exp2(m - m_new);
          const float m_exp = offset8 ? m_new - 8.0f : m_new;
          std::vector<float> acc(dim, 0.0f);
          std::vector<float> pqs;
          float rowsum = 0.0f;
          for (int64_t j = k0; j < k1; ++j) {
            const float p = std::exp2(s[j - k0] - m_exp);
            rowsum += p;
            const float pq = variant == Variant::kSage1
                                 ? static_cast<float>(c10::Half(p))
                                 : quant::e4m3_decode(quant::e4m3_encode(offset8 ? p : p * 448.0f));
            pqs.push_back(pq);
            for (int64_t d = 0; d < dim; ++d) acc[d] += pq * vv[b][hk][j][d];
          }
          if (truncating) {  // the wgmma chain of k32 steps, one output element at a time
            for (int64_t d = 0; d < dim; ++d) {
              float c = 0.0f;
              for (int64_t j0 = k0; j0 < k1; j0 += 32) {
                std::vector<float> products;
                for (int64_t j = j0; j < std::min(k1, j0 + 32); ++j) {
                  products.push_back(pqs[j - k0] * vv[b][hk][j][d]);
                }
                c = quant::wgmma_fp8_k32_step(c, products.data(), static_cast<int>(products.size()));
              }
              acc[d] = c;
            }
          }
          if (tensor_row_sum) {  // the same chain over a V column of ones
            float c = 0.0f;
            for (int64_t j0 = k0; j0 < k1; j0 += 32) {
              const int64_t n = std::min(k1, j0 + 32) - j0;
              c = quant::wgmma_fp8_k32_step(c, pqs.data() + (j0 - k0), static_cast<int>(n));
            }
            rowsum = c;
          }
          l = l * alpha + rowsum;
          for (int64_t d = 0; d < dim; ++d) buf[d] = buf[d] * alpha + acc[d];
          m = m_new;
        }
        for (int64_t d = 0; d < dim; ++d) {
          const float factor = variant == Variant::kSage1 ? 1.0f
                               : offset8 ? vscale[b][hk][0][d]
                                         : vscale[b][hk][0][d] / 448.0f;
          o[b][h][i][d] = buf[d] / l * factor + vmean[b][hk][0][d];
        }
      }
  return out;
}

TEST(GoldenShapes, AgreesWithPlainLoops) {
  const test::Shape shape{1, 4, 2, 75, 150, 16};
  const test::Inputs in = test::make_inputs(shape, 21, at::kFloat);
  for (const KernelNumerics& numerics : {kMmaNumerics, kWgmmaNumerics}) {
    const bool wgmma = numerics.tiles.block_k == kWgmmaTiles.block_k;
    for (Variant variant : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
      if (wgmma && variant == Variant::kSage2Int4) continue;  // no wgmma kernel for it
      for (bool causal : {false, true}) {
        AttentionOptions opts;
        opts.variant = variant;
        opts.causal = causal;
        opts.smooth_v = true;
        const at::Tensor golden = reference::golden_attention(in.q, in.k, in.v, opts, numerics).out;
        const at::Tensor loops =
            loop_golden(reference::quantize_qk(in.q, in.k, opts, numerics.tiles),
                        reference::quantize_v(in.v, opts), variant, causal, numerics);
        const at::Tensor diff = (golden - loops).abs();
        // Summation order differs (and exp2 may differ by an ulp, moving a P8 rounding): tiny
        // mean difference, small worst case.
        EXPECT_LT(diff.mean().item<double>(), 2e-5)
            << to_string(variant) << " causal " << causal << " wgmma " << wgmma;
        EXPECT_LT(diff.max().item<double>(), 5e-3)
            << to_string(variant) << " causal " << causal << " wgmma " << wgmma;
      }
    }
  }
}

}  // namespace
}  // namespace sageattn
