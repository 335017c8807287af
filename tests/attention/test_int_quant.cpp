// Symmetric INT8/INT4 quantization: the token groups of every granularity, scales, rounding,
// clamping and INT4 packing.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "attention_test_util.h"
#include "sageattn/quant.h"

namespace sageattn::quant {
namespace {

std::vector<int64_t> ids(const TokenGroups& g) {
  const at::Tensor t = g.group_of_token.contiguous();
  return {t.const_data_ptr<int64_t>(), t.const_data_ptr<int64_t>() + t.numel()};
}

TEST(TokenGroups, QGroupsPerGranularity) {
  const int64_t len = 300;  // two whole Q blocks and a partial one
  const TokenGroups block = q_token_groups(len, Granularity::kPerBlock);
  const TokenGroups warp = q_token_groups(len, Granularity::kPerWarp);
  const TokenGroups thread = q_token_groups(len, Granularity::kPerThread);
  EXPECT_EQ(block.count, 3);
  EXPECT_EQ(warp.count, 10);
  EXPECT_EQ(thread.count, 80);
  const auto b = ids(block), w = ids(warp), t = ids(thread);
  for (int64_t r = 0; r < len; ++r) {
    EXPECT_EQ(b[r], r / 128) << r;
    EXPECT_EQ(w[r], r / 32) << r;
    EXPECT_EQ(t[r], (r / 32) * 8 + (r % 32) % 8) << r;
  }
  // 8 thread groups of 4 rows per 32-row warp.
  EXPECT_EQ(std::count(t.begin(), t.begin() + 32, 3), 4);
}

TEST(TokenGroups, KGroupsPerGranularity) {
  const int64_t len = 130;
  const auto b = ids(k_token_groups(len, Granularity::kPerBlock));
  const auto w = ids(k_token_groups(len, Granularity::kPerWarp));
  const TokenGroups thread = k_token_groups(len, Granularity::kPerThread);
  const auto t = ids(thread);
  EXPECT_EQ(thread.count, 2 * 8 + 2);
  for (int64_t j = 0; j < len; ++j) {
    EXPECT_EQ(b[j], j / 64) << j;
    EXPECT_EQ(w[j], j / 64) << j;
    EXPECT_EQ(t[j], (j / 64) * 8 + j % 8) << j;
  }
}

TEST(TokenGroups, OtherTileShapes) {
  const TileShape tiles{64, 128, 16};
  EXPECT_EQ(q_token_groups(100, Granularity::kPerBlock, tiles).count, 2);
  EXPECT_EQ(q_token_groups(100, Granularity::kPerWarp, tiles).count, 7);
  EXPECT_EQ(k_token_groups(300, Granularity::kPerWarp, tiles).count, 3);
}

// Scales and values against a plain loop over groups, for every granularity and both formats.
TEST(Quantize, MatchesPerGroupLoop) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  const int64_t len = 200, dim = 24;
  for (IntFormat format : {IntFormat::kInt8, IntFormat::kInt4}) {
    for (Granularity g : {Granularity::kPerBlock, Granularity::kPerWarp, Granularity::kPerThread}) {
      SCOPED_TRACE(std::string(to_string(g)) + (format == IntFormat::kInt4 ? " int4" : " int8"));
      const at::Tensor x = at::randn({2, len, dim}, gen) * at::linspace(0.1, 5.0, len).view({1, len, 1});
      const TokenGroups groups = q_token_groups(len, g);
      const IntQuantized qx = quantize_symmetric(x, groups, format);
      ASSERT_EQ(qx.values.scalar_type(), at::kChar);
      ASSERT_EQ(qx.scales.sizes(), (at::IntArrayRef{2, groups.count}));
      const float q_max = static_cast<float>(qmax(format));
      const auto group_ids = ids(groups);
      for (int64_t n = 0; n < 2; ++n) {
        for (int64_t grp = 0; grp < groups.count; ++grp) {
          std::vector<int64_t> rows;
          for (int64_t r = 0; r < len; ++r) if (group_ids[r] == grp) rows.push_back(r);
          const at::Tensor idx = at::tensor(rows, at::kLong);
          const at::Tensor members = x[n].index_select(0, idx);
          const float absmax = members.abs().max().item<float>();
          EXPECT_FLOAT_EQ(qx.scales[n][grp].item<float>(), absmax / q_max);
          const at::Tensor expected = at::round(members * (q_max / absmax)).clamp(-q_max, q_max);
          EXPECT_TRUE(at::equal(qx.values[n].index_select(0, idx).to(at::kFloat), expected));
        }
      }
      // Each element is within half a step of its input.
      const at::Tensor err = (dequantize_symmetric(qx, groups) - x).abs();
      const at::Tensor half_step = scale_per_token(qx.scales, groups).unsqueeze(-1) * 0.5001;
      EXPECT_TRUE((err <= half_step).all().item<bool>());
    }
  }
}

TEST(Quantize, ClampsToSymmetricRangeAndHitsItsEnds) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  const at::Tensor x = at::randn({1, 64, 16}, gen) * 1000.0;
  for (IntFormat format : {IntFormat::kInt8, IntFormat::kInt4}) {
    const TokenGroups groups = k_token_groups(64, Granularity::kPerBlock);
    const IntQuantized qx = quantize_symmetric(x, groups, format);
    EXPECT_EQ(qx.values.abs().max().item<int>(), qmax(format));  // the absmax element
    EXPECT_GE(qx.values.min().item<int>(), -qmax(format));       // never -128 / -8
  }
}

TEST(Quantize, RoundsHalfToEvenAndZeroGroups) {
  // absmax 127 -> inv = 1, so values are rint(x).
  at::Tensor x = at::zeros({1, 64, 8});
  x[0][0] = at::tensor({2.5f, 3.5f, -2.5f, -0.5f, 127.0f, 0.49f, 1.5f, -1.5f});
  const TokenGroups groups = k_token_groups(64, Granularity::kPerBlock);
  const IntQuantized qx = quantize_symmetric(x, groups, IntFormat::kInt8);
  EXPECT_TRUE(at::equal(qx.values[0][0], at::tensor({2, 4, -2, 0, 127, 0, 2, -2}, at::kChar)));
  EXPECT_FLOAT_EQ(qx.scales[0][0].item<float>(), 1.0f);
  // An all-zero group: scale 0 and zero values, no NaN.
  const IntQuantized zero = quantize_symmetric(at::zeros({1, 64, 8}), groups, IntFormat::kInt4);
  EXPECT_EQ(zero.scales.item<float>(), 0.0f);
  EXPECT_EQ(zero.values.abs().max().item<int>(), 0);
}

TEST(Int4, PackLayoutIsLowNibbleFirst) {
  const at::Tensor packed = pack_int4(at::tensor({1, -1, -8, 7, 0, 3}, at::kChar));
  EXPECT_TRUE(at::equal(packed, at::tensor({0xF1, 0x78, 0x30}, at::kInt).to(at::kByte)));
}

TEST(Int4, PackUnpackRoundTripsEveryPair) {
  std::vector<int8_t> all;
  for (int lo = -8; lo <= 7; ++lo)
    for (int hi = -8; hi <= 7; ++hi) {
      all.push_back(static_cast<int8_t>(lo));
      all.push_back(static_cast<int8_t>(hi));
    }
  const at::Tensor values = at::tensor(at::ArrayRef<int8_t>(all)).view({16, 32});
  const at::Tensor packed = pack_int4(values);
  EXPECT_EQ(packed.sizes(), (at::IntArrayRef{16, 16}));
  EXPECT_TRUE(at::equal(unpack_int4(packed, 32), values));
}

TEST(Int4, OddLengthPadsTheHighNibble) {
  const at::Tensor values = at::tensor({3, -4, 5}, at::kChar);
  const at::Tensor packed = pack_int4(values);
  EXPECT_EQ(packed.size(0), 2);
  EXPECT_EQ(packed[1].item<std::uint8_t>(), 0x05);
  EXPECT_TRUE(at::equal(unpack_int4(packed, 3), values));
}

TEST(Int4, RejectsOutOfRangeValuesAndCounts) {
  test::expect_error([] { pack_int4(at::tensor({9}, at::kChar)); },
                     {"pack_int4", "[-8, 7]", "[9, 9]"});
  test::expect_error([] { pack_int4(at::tensor({1.0f})); }, {"pack_int4", "int8", "Float"});
  test::expect_error([] { unpack_int4(at::zeros({4}, at::kByte), 10); },
                     {"unpack_int4", "4 bytes", "count 10"});
}

}  // namespace
}  // namespace sageattn::quant
