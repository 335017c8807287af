// The variant facts table (sageattn/variants.h) against design.md section 2 and the kernels'
// instantiations (docs/kernels.md), and the helpers that read it.
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include "sageattn/variants.h"

namespace sageattn {
namespace {

TEST(VariantFacts, StateDesignSection2) {
  const VariantFacts& int8 = variant_facts(Variant::kSage2Int8);
  EXPECT_EQ(int8.qk_bits, 8);
  EXPECT_EQ(int8.pv, PvOperand::kFp8E4M3);
  EXPECT_EQ(int8.min_arch, 89);
  EXPECT_EQ(int8.wgmma_arch, 90);
  const VariantFacts& int4 = variant_facts(Variant::kSage2Int4);
  EXPECT_EQ(int4.qk_bits, 4);
  EXPECT_EQ(int4.pv, PvOperand::kFp8E4M3);
  EXPECT_EQ(int4.wgmma_arch, 0) << "no s4 wgmma";
  const VariantFacts& sage1 = variant_facts(Variant::kSage1);
  EXPECT_EQ(sage1.qk_bits, 8);
  EXPECT_EQ(sage1.pv, PvOperand::kFp16);
  EXPECT_EQ(sage1.min_arch, 80);
  const VariantFacts& fp16 = variant_facts(Variant::kFp16);
  EXPECT_EQ(fp16.qk_bits, 0);
  EXPECT_EQ(fp16.min_arch, 0);
  EXPECT_FALSE(is_quantized(Variant::kFp16));
  EXPECT_FALSE(is_quantized(Variant::kAuto));
  EXPECT_TRUE(is_quantized(Variant::kSage2Int4));
  EXPECT_THROW(variant_facts(Variant::kAuto), c10::Error);
}

TEST(VariantFacts, NamesAndGranularityComeFromTheTable) {
  EXPECT_EQ(variant_names(),
            (std::vector<std::string>{"sage2-8b", "sage2-4b", "sage1", "fp16", "auto"}));
  for (const VariantFacts& f : kVariantFacts) {
    EXPECT_EQ(parse_variant(f.name), f.variant);
    EXPECT_EQ(to_string(f.variant), f.name);
  }
  EXPECT_EQ(parse_variant("auto"), Variant::kAuto);
  EXPECT_FALSE(parse_variant("sage3").has_value());
  EXPECT_EQ(default_granularity(Variant::kSage2Int8), Granularity::kPerThread);
  EXPECT_EQ(default_granularity(Variant::kSage2Int4), Granularity::kPerThread);
  EXPECT_EQ(default_granularity(Variant::kSage1), Granularity::kPerWarp);
}

TEST(VariantFacts, HeadDimsPadToTheNativeKernels) {
  EXPECT_EQ(padded_head_dim(Variant::kSage2Int8, 16), 64);
  EXPECT_EQ(padded_head_dim(Variant::kSage2Int8, 64), 64);
  EXPECT_EQ(padded_head_dim(Variant::kSage1, 72), 128);
  EXPECT_EQ(padded_head_dim(Variant::kSage2Int4, 128), 128);
  EXPECT_EQ(padded_head_dim(Variant::kSage2Int8, 129), 0);
  EXPECT_EQ(padded_head_dim(Variant::kSage2Int8, 256), 0);
  EXPECT_EQ(padded_head_dim(Variant::kFp16, 64), 0) << "fp16 has no sagegen kernel";
}

TEST(VariantFacts, AutoPrefersSage2Int8FromTheMeasuredCrossoverOn) {
  EXPECT_FALSE(auto_prefers_sage2_int8(90, 128, 3071, false));
  EXPECT_TRUE(auto_prefers_sage2_int8(90, 128, 3072, false));
  EXPECT_FALSE(auto_prefers_sage2_int8(90, 128, 3072, true));
  EXPECT_FALSE(auto_prefers_sage2_int8(90, 96, 4607, true));
  EXPECT_TRUE(auto_prefers_sage2_int8(90, 96, 4608, true)) << "hd96 runs the hd128 kernel";
  EXPECT_FALSE(auto_prefers_sage2_int8(90, 64, 3583, false));
  EXPECT_TRUE(auto_prefers_sage2_int8(90, 64, 3584, false));
  EXPECT_FALSE(auto_prefers_sage2_int8(90, 64, 6143, true));
  EXPECT_TRUE(auto_prefers_sage2_int8(90, 64, 6144, true));
  EXPECT_TRUE(auto_prefers_sage2_int8(89, 64, 256, false)) << "no sm_89 measurement";
  EXPECT_EQ(auto_crossover(89, 128, false), nullptr);
}

}  // namespace
}  // namespace sageattn
