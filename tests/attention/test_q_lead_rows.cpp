// Padding rows before Q's row 0 (KernelNumerics::q_lead_rows, tiles.h causal_q_lead_rows): the
// sm_90a kernel's causal grids put the padding in the first Q block, which runs one key block,
// instead of the last, which runs all of them. The golden model's Q blocks and groups move with it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "attention_test_util.h"
#include "sageattn/metrics.h"
#include "sageattn/quant.h"
#include "sageattn/reference.h"
#include "sageattn/tiles.h"

namespace sageattn {
namespace {

KernelNumerics with_lead(int lead) {
  KernelNumerics numerics = kWgmmaNumerics;
  numerics.q_lead_rows = lead;
  return numerics;
}

TEST(QLeadRows, PadsTheFirstBlockOfCausalGridsOnly) {
  EXPECT_EQ(causal_q_lead_rows(16384, 192, true), 128);  // 86 blocks, 16512 rows
  EXPECT_EQ(causal_q_lead_rows(8192, 192, true), 64);
  EXPECT_EQ(causal_q_lead_rows(16384, 256, true), 0);  // whole blocks: no padding
  EXPECT_EQ(causal_q_lead_rows(100, 192, true), 64);   // 92 padding rows: one consumer's first
  EXPECT_EQ(causal_q_lead_rows(16000, 256, true), 128);
  EXPECT_EQ(causal_q_lead_rows(1000, 256, true), 0);   // 24 padding rows: all last
  EXPECT_EQ(causal_q_lead_rows(16384, 192, false), 0);
}

TEST(QLeadRows, MoveTheQTokenGroups) {
  const TileShape tiles = kWgmmaTiles3;  // 192 x 128, warp_q 16
  const int64_t len = 400, lead = 128;   // causal_q_lead_rows(400, 192)
  const quant::TokenGroups block = quant::q_token_groups(len, Granularity::kPerBlock, tiles, lead);
  const quant::TokenGroups warp = quant::q_token_groups(len, Granularity::kPerWarp, tiles, lead);
  const quant::TokenGroups thread = quant::q_token_groups(len, Granularity::kPerThread, tiles, lead);
  EXPECT_EQ(block.count, 3);
  EXPECT_EQ(warp.count, (lead + len + 15) / 16);
  for (const int64_t row : {int64_t{0}, int64_t{15}, int64_t{16}, int64_t{207}, int64_t{399}}) {
    const int64_t padded = row + lead;
    EXPECT_EQ(block.group_of_token[row].item<int64_t>(), padded / 192) << row;
    EXPECT_EQ(warp.group_of_token[row].item<int64_t>(), padded / 16) << row;
    EXPECT_EQ(thread.group_of_token[row].item<int64_t>(), padded / 16 * 8 + padded % 8) << row;
  }
  test::expect_error([&] { quant::q_token_groups(len, Granularity::kPerWarp, tiles, 192); },
                     {"q_token_groups", "lead_rows", "192"});
}

// With the padding first, the golden model is as close to exact attention as without it. The
// moved Q blocks change the result through Q smoothing's block means (the per-warp and
// per-thread scale groups of 16 rows do not move: the lead is a multiple of 64 rows).
TEST(QLeadRows, GoldenMatchesExact) {
  for (const test::ShapeCase& c :
       {test::ShapeCase{{1, 2, 2, 400, 400, 64}, Variant::kSage2Int8, true, Layout::kHND,
                        at::kBFloat16, 0.999},
        // sage2-4b smooths Q by default: the moved blocks' means are in play.
        test::ShapeCase{{2, 4, 2, 300, 300, 128}, Variant::kSage2Int4, true, Layout::kNHD,
                        at::kHalf, 0.95}}) {
    const int lead = causal_q_lead_rows(c.shape.len_q, kWgmmaTiles.block_q, true);
    ASSERT_GT(lead, 0);
    test::expect_golden_matches_exact(c, with_lead(lead));
  }
  const test::Inputs in = test::make_inputs({1, 2, 2, 400, 400, 64}, 12, at::kHalf);
  AttentionOptions opts;
  opts.causal = true;
  opts.return_lse = true;
  const AttentionResult plain_tail = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaNumerics);
  const AttentionResult plain_first = reference::golden_attention(in.q, in.k, in.v, opts, with_lead(128));
  EXPECT_TRUE(at::equal(plain_tail.out, plain_first.out));
  opts.smooth_q = true;
  const AttentionResult tail = reference::golden_attention(in.q, in.k, in.v, opts, kWgmmaNumerics);
  const AttentionResult first = reference::golden_attention(in.q, in.k, in.v, opts, with_lead(128));
  EXPECT_FALSE(at::equal(tail.out, first.out));
  EXPECT_GE(compare(first.out, tail.out.to(at::kDouble)).cos_sim, 0.999);
  EXPECT_EQ((~at::isfinite(first.lse)).sum().item<int64_t>(), 0);
}

// Slices of whole (moved) Q blocks equal the full run, as GoldenWgmma.RowSlicesEqualTheFullRun
// (here in the HND layout, with Q smoothing's per-block means); slices on the unmoved boundaries
// are refused.
TEST(QLeadRows, RowSlicesFollowTheMovedBlocks) {
  const test::Inputs in = test::make_inputs({1, 2, 1, 400, 300, 64}, 78, at::kHalf);
  AttentionOptions opts;
  opts.causal = true;
  opts.smooth_q = true;
  opts.return_lse = true;
  const int lead = causal_q_lead_rows(400, kWgmmaTiles.block_q, true);  // 128
  const KernelNumerics numerics = with_lead(lead);
  const int64_t bq = kWgmmaTiles.block_q;
  test::expect_row_slices_equal_the_full_run(
      in, opts, numerics, {{0, bq - lead}, {bq - lead, 2 * bq - lead}, {2 * bq - lead, 400}});
  test::expect_error(
      [&] { reference::golden_attention_rows(in.q, in.k, in.v, opts, bq, 2 * bq, numerics); },
      {"golden_attention_rows", "[192, 384)", "128 padding rows before row 0"});
  test::expect_error(
      [&] { reference::golden_attention_rows(in.q, in.k, in.v, opts, 0, 10, with_lead(192)); },
      {"golden_attention_rows", "q_lead_rows 192"});
}

}  // namespace
}  // namespace sageattn
