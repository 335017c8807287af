// Golden model vs exact FP64 attention on inputs with outlier channels: the error bound of
// every variant, with and without smoothing. The measured values and these bounds are the table
// in docs/numerics.md; each bound is the measurement with a margin.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "attention_test_util.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

struct AccuracyCase {
  const char* name;
  Variant variant;
  bool smooth_q, smooth_k, smooth_v;
  std::optional<Granularity> granularity;  // unset: the variant's default
  double min_cos;
  double max_rel_l1;
};

// Bounds measured on the inputs below (see docs/numerics.md for the values they came from).
const AccuracyCase kCases[] = {
    {"sage2-8b smooth K+Q", Variant::kSage2Int8, true, true, false, {}, 0.9995, 0.025},
    {"sage2-8b smooth K+Q+V", Variant::kSage2Int8, true, true, true, {}, 0.9995, 0.025},
    {"sage2-8b smooth K", Variant::kSage2Int8, false, true, false, {}, 0.9995, 0.025},
    {"sage2-8b no smoothing", Variant::kSage2Int8, false, false, false, {}, 0.9993, 0.028},
    {"sage2-8b per-block", Variant::kSage2Int8, true, true, false, Granularity::kPerBlock, 0.9993, 0.028},
    {"sage2-8b per-thread", Variant::kSage2Int8, true, true, false, Granularity::kPerThread, 0.9995, 0.025},
    {"sage2-4b smooth K+Q", Variant::kSage2Int4, true, true, false, {}, 0.975, 0.18},
    {"sage2-4b smooth K", Variant::kSage2Int4, false, true, false, {}, 0.965, 0.22},
    {"sage2-4b no smoothing", Variant::kSage2Int4, false, false, false, {}, 0.945, 0.28},
    {"sage2-4b per-warp", Variant::kSage2Int4, true, true, false, Granularity::kPerWarp, 0.97, 0.20},
    {"sage1 smooth K", Variant::kSage1, false, true, false, {}, 0.9996, 0.018},
    {"sage1 smooth K+Q", Variant::kSage1, true, true, false, {}, 0.9996, 0.018},
    {"sage1 no smoothing", Variant::kSage1, false, false, false, {}, 0.9995, 0.022},
    {"fp16 (FP32 golden)", Variant::kFp16, false, false, false, {}, 0.99999, 0.001},
};

class GoldenAccuracy : public ::testing::TestWithParam<AccuracyCase> {};

TEST_P(GoldenAccuracy, WithinMeasuredBound) {
  const AccuracyCase& c = GetParam();
  const test::Shape shape{1, 2, 2, 1024, 1024, 128};
  const test::Inputs in = test::make_inputs(shape, 2024, at::kHalf);
  AttentionOptions opts;
  opts.variant = c.variant;
  opts.smooth_q = c.smooth_q;
  opts.smooth_k = c.smooth_k;
  opts.smooth_v = c.smooth_v;
  opts.granularity = c.granularity;
  const at::Tensor exact = reference::exact_attention(in.q, in.k, in.v, opts).out;
  const ErrorMetrics m = compare(reference::golden_attention(in.q, in.k, in.v, opts).out, exact);
  std::printf("| %-24s | %.6f | %.4f | %.3e |\n", c.name, m.cos_sim, m.rel_l1, m.nmse);
  RecordProperty("cos", std::to_string(m.cos_sim));
  RecordProperty("rel_l1", std::to_string(m.rel_l1));
  EXPECT_GE(m.cos_sim, c.min_cos) << c.name << ": " << m.str();
  EXPECT_LE(m.rel_l1, c.max_rel_l1) << c.name << ": " << m.str();
  EXPECT_EQ(m.nonfinite, 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenAccuracy, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<AccuracyCase>& info) {
                           std::string name = info.param.name;
                           for (char& ch : name) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

// The floor: sage2-8b with its default smoothing reaches cos >= 0.999 on outliers, in
// both dtypes and with a causal mask.
TEST(GoldenAccuracy, Sage2Int8ReachesCos0999) {
  for (at::ScalarType dtype : {at::kHalf, at::kBFloat16}) {
    for (bool causal : {false, true}) {
      const test::Inputs in = test::make_inputs({1, 4, 2, 1000, 1000, 64}, 99, dtype);
      AttentionOptions opts;
      opts.causal = causal;
      const ErrorMetrics m = compare(reference::golden_attention(in.q, in.k, in.v, opts).out,
                                     reference::exact_attention(in.q, in.k, in.v, opts).out);
      EXPECT_GE(m.cos_sim, 0.999) << dtype << " causal " << causal << ": " << m.str();
    }
  }
}

}  // namespace
}  // namespace sageattn
