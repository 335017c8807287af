// The split of the last wave's tiles over their keys (tiles.h KeySplit): the plan, its bounds,
// the selector's use of it, and the golden model's split numerics against exact attention and
// against the unsplit golden model.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "attention_test_util.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"
#include "sageattn/tiles.h"
#include "selector.h"

namespace sageattn {
namespace {

constexpr int kH200Sms = 132;

TEST(KeySplitPlan, SplitsThePartialLastWaveOverTheIdleSms) {
  // FLUX 1024^2 (B1 H24 L4608, 192-row tiles): 576 tiles = 4 waves + 48; 132 / 48 = 2 splits.
  const KeySplit flux = plan_key_split(576, 36, kH200Sms, false);
  EXPECT_EQ(flux.first_tile, 528);
  EXPECT_EQ(flux.splits, 2);
  EXPECT_EQ(flux.k_blocks, 36);
  // B2 H24 L16384: 4128 tiles = 31 waves + 36: 3 splits.
  const KeySplit l16k = plan_key_split(4128, 128, kH200Sms, false);
  EXPECT_EQ(l16k.first_tile, 4092);
  EXPECT_EQ(l16k.splits, 3);
  // Wan 81 frames (B2 H12 L32760): 4104 tiles = 31 waves + 12: 11 splits.
  EXPECT_EQ(plan_key_split(4104, 256, kH200Sms, false).splits, 11);
  // Fewer tiles than SMs: all of them, up to kMaxKeySplits and one split per 4 key blocks.
  const KeySplit few = plan_key_split(2, 32, kH200Sms, false);
  EXPECT_EQ(few.first_tile, 0);
  EXPECT_EQ(few.splits, 8);
  EXPECT_EQ(plan_key_split(2, 300, kH200Sms, false).splits, kMaxKeySplits);
}

TEST(KeySplitPlan, NoSplitWhereItCannotHelpOrIsNotDefined) {
  EXPECT_EQ(plan_key_split(1056, 32, kH200Sms, false).splits, 1);  // whole waves (L4096)
  EXPECT_EQ(plan_key_split(576, 36, kH200Sms, true).splits, 1);    // causal
  EXPECT_EQ(plan_key_split(576, 36, 0, false).splits, 1);          // SM count unknown
  EXPECT_EQ(plan_key_split(24, 7, kH200Sms, false).splits, 1);     // under 2 x 4 key blocks
  EXPECT_EQ(plan_key_split(100, 64, kH200Sms, false).splits, 1);   // 132 / 100: one CTA a tile
  EXPECT_EQ(plan_key_split(0, 64, kH200Sms, false).splits, 1);
}

TEST(KeySplitPlan, BoundsAreIncreasingMultiplesOfFourCoveringEveryBlock) {
  for (int k_blocks = 8; k_blocks <= 300; ++k_blocks) {
    for (int splits = 2; splits <= kMaxKeySplits && 4 * splits <= k_blocks; ++splits) {
      const KeySplit split{0, splits, k_blocks};
      EXPECT_EQ(key_split_begin(split, 0), 0);
      EXPECT_EQ(key_split_begin(split, splits), k_blocks);
      for (int s = 1; s < splits; ++s) {
        const int begin = key_split_begin(split, s);
        EXPECT_EQ(begin % kKeySplitBlockMultiple, 0) << k_blocks << " / " << splits;
        EXPECT_GT(begin, key_split_begin(split, s - 1)) << k_blocks << " / " << splits << " " << s;
        // Within half a multiple of the even share.
        EXPECT_LE(std::abs(2 * begin * splits - 2 * s * k_blocks), kKeySplitBlockMultiple * splits)
            << k_blocks << " / " << splits << " " << s;
      }
      EXPECT_LT(key_split_begin(split, splits - 1), k_blocks);
    }
  }
}

Problem sm90_problem(int64_t batch, int64_t heads, int64_t len, bool causal) {
  Problem p;
  p.batch = batch;
  p.heads_q = p.heads_kv = heads;
  p.len_q = p.len_k = len;
  p.head_dim = 128;
  p.dtype = at::kBFloat16;
  p.device = c10::Device(c10::kCUDA, 0);
  p.causal = causal;
  return p;
}

TEST(KeySplitPlan, TheSelectorPlansItFromTheDevicesSmCount) {
  DeviceFacts h200;
  h200.arch = 90;
  h200.sm_count = kH200Sms;
  AttentionOptions opts;
  opts.variant = Variant::kSage2Int8;
  opts.engine = Engine::kKernel;
  const Selection flux = select_route(sm90_problem(1, 24, 4608, false), opts, h200);
  ASSERT_EQ(flux.route, Route::kCudaKernel) << flux.reason;
  EXPECT_EQ(flux.plan.numerics.key_split.first_tile, 528);
  EXPECT_EQ(flux.plan.numerics.key_split.splits, 2);
  EXPECT_EQ(flux.plan.numerics.key_split.k_blocks, 36);
  EXPECT_NE(flux.describe().find("tiles from 528 over 2 key splits"), std::string::npos)
      << flux.describe();
  // hd64 splits too: 24 x 18 = 432 tiles of 256 rows, the last 36 over 3 CTAs each.
  Problem hd64 = sm90_problem(1, 24, 4608, false);
  hd64.head_dim = 64;
  const KeySplit hd64_split = select_route(hd64, opts, h200).plan.numerics.key_split;
  EXPECT_EQ(hd64_split.first_tile, 396);
  EXPECT_EQ(hd64_split.splits, 3);
  EXPECT_EQ(hd64_split.k_blocks, 36);
  // Causal grids and devices of unknown size run unsplit.
  EXPECT_EQ(
      select_route(sm90_problem(1, 24, 4608, true), opts, h200).plan.numerics.key_split.splits, 1);
  h200.sm_count = 0;
  EXPECT_EQ(
      select_route(sm90_problem(1, 24, 4608, false), opts, h200).plan.numerics.key_split.splits, 1);
}

// Golden model: a split numerics over every tile of a small problem.
KernelNumerics split_numerics(int64_t len_k, long long first_tile, int splits) {
  KernelNumerics n = kWgmmaNumerics;
  n.key_split = KeySplit{first_tile, splits, static_cast<int>((len_k + 127) / 128)};
  return n;
}

TEST(GoldenKeySplit, MatchesExactAttentionAsTheUnsplitModelDoes) {
  // 1000 keys = 8 blocks: splits [0, 4) and [4, 8); 2000 keys = 16 blocks: 4 splits.
  for (const auto& [len_k, splits] : {std::pair{1000, 2}, {2000, 4}}) {
    for (const Layout layout : {Layout::kHND, Layout::kNHD}) {
      const test::ShapeCase c{
          {1, 4, 2, 300, len_k, 128}, Variant::kSage2Int8, false, layout, at::kBFloat16, 0.999};
      test::expect_golden_matches_exact(c, split_numerics(len_k, 0, splits));
    }
  }
}

TEST(GoldenKeySplit, DiffersFromTheUnsplitModelOnlyInTheSplitTilesAndOnlyByRounding) {
  const test::Inputs in = test::make_inputs({2, 2, 2, 500, 1000, 128}, 77, at::kFloat);
  AttentionOptions opts;
  opts.return_lse = true;
  const AttentionResult whole = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaNumerics);
  // Tiles of 192 rows: 3 per head, 12 in all; from tile 7 on (b 1, h 0, q block 1) split in 2.
  const AttentionResult split =
      reference::golden_attention(in.q, in.k, in.v, opts, split_numerics(1000, 7, 2));
  const AttentionResult exact = reference::exact_attention(in.q, in.k, in.v, opts);
  // Tiles 0..6: (b 0, both heads), (b 1, h 0, q block 0): the same values.
  EXPECT_TRUE(at::equal(whole.out[0], split.out[0]));
  EXPECT_TRUE(at::equal(whole.out[1][0].narrow(0, 0, 192), split.out[1][0].narrow(0, 0, 192)));
  // Tiles 7..11 differ (each split's P rounds to FP8 against its own running max) ...
  const at::Tensor split_rows_whole = whole.out[1][0].narrow(0, 192, 308);
  const at::Tensor split_rows_split = split.out[1][0].narrow(0, 192, 308);
  EXPECT_FALSE(at::equal(split_rows_whole, split_rows_split));
  EXPECT_FALSE(at::equal(whole.out[1][1], split.out[1][1]));
  // ... by the FP8 rounding of P only: as close to exact as the unsplit rows.
  const ErrorMetrics m_whole = compare(whole.out[1], exact.out[1]);
  const ErrorMetrics m_split = compare(split.out[1], exact.out[1]);
  EXPECT_LT(m_split.rel_l1, m_whole.rel_l1 * 1.1) << m_split.str() << " vs " << m_whole.str();
  EXPECT_GE(m_split.cos_sim, 0.9995) << m_split.str();
  // The row sums are those of each split's FP8 P: the LSE is as far from exact as unsplit.
  const double lse_split = (split.lse.to(at::kDouble) - exact.lse).abs().mean().item<double>();
  const double lse_whole = (whole.lse.to(at::kDouble) - exact.lse).abs().mean().item<double>();
  EXPECT_LT(lse_split, std::max(0.02, 1.5 * lse_whole)) << lse_whole;
}

TEST(GoldenKeySplit, RowSlicesSplitTheSameRowsAsTheWholeProblem) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 800, 1000, 128}, 5, at::kFloat);
  AttentionOptions opts;
  // 5 tiles per head (192 rows), 10 in all; tiles 6..9 (head 1, q blocks 1-4) split in 2.
  const KernelNumerics n = split_numerics(1000, 6, 2);
  const at::Tensor whole = reference::golden_attention(in.q, in.k, in.v, opts, n).out;
  const at::Tensor unsplit =
      reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaNumerics).out;
  for (const auto& [begin, end] : {std::pair<int64_t, int64_t>{0, 192}, {192, 576}, {768, 800}}) {
    const at::Tensor rows =
        reference::golden_attention_rows(in.q, in.k, in.v, opts, begin, end, n).out;
    // Equal up to FP32 summation order (BLAS blocks differently for other row counts) ...
    const float same = (rows - whole.narrow(2, begin, end - begin)).abs().max().item<float>();
    EXPECT_LT(same, 1e-3f) << begin << ".." << end;
    if (begin == 0) continue;
    // ... and in head 1 of q blocks 1-4 farther from the unsplit model than that.
    const float other =
        (rows[0][1] - unsplit[0][1].narrow(0, begin, end - begin)).abs().max().item<float>();
    EXPECT_GT(other, 4 * same) << begin << ".." << end;
  }
}

TEST(GoldenKeySplit, RefusesASplitThatDoesNotFitTheProblem) {
  const test::Inputs in = test::make_inputs({1, 2, 2, 100, 1000, 128}, 9, at::kFloat);
  AttentionOptions opts;
  opts.causal = true;
  test::expect_error(
      [&] { reference::golden_attention(in.q, in.k, in.v, opts, split_numerics(1000, 0, 2)); },
      {"key split", "causal"});
  opts.causal = false;
  test::expect_error(
      [&] { reference::golden_attention(in.q, in.k, in.v, opts, split_numerics(3000, 0, 2)); },
      {"key split of 24 blocks", "L_k 1000"});
}

}  // namespace
}  // namespace sageattn
