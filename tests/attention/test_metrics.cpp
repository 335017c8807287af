#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "attention_test_util.h"
#include "sageattn/metrics.h"

namespace sageattn {
namespace {

TEST(Metrics, IdenticalTensors) {
  const at::Tensor r = at::randn({3, 5, 7});
  const ErrorMetrics m = compare(r, r);
  EXPECT_DOUBLE_EQ(m.cos_sim, 1.0);
  EXPECT_EQ(m.rel_l1, 0.0);
  EXPECT_EQ(m.rmse, 0.0);
  EXPECT_EQ(m.max_abs, 0.0);
  EXPECT_EQ(m.nmse, 0.0);
  EXPECT_DOUBLE_EQ(m.cos_l1, 1.0);
}

TEST(Metrics, KnownValues) {
  const at::Tensor r = at::tensor({1.0, -2.0, 3.0, -4.0});
  const ErrorMetrics scaled = compare(r * 1.1, r);
  EXPECT_NEAR(scaled.cos_sim, 1.0, 1e-15);
  EXPECT_NEAR(scaled.rel_l1, 0.1, 1e-12);
  EXPECT_NEAR(scaled.nmse, 0.01, 1e-12);
  EXPECT_NEAR(scaled.max_abs, 0.4, 1e-12);
  EXPECT_NEAR(scaled.rmse, std::sqrt(0.01 * 30.0 / 4.0), 1e-12);
  EXPECT_NEAR(scaled.cos_l1, 0.9, 1e-12);
  // Orthogonal: cos 0.
  const ErrorMetrics ortho = compare(at::tensor({1.0, 0.0}), at::tensor({0.0, 1.0}));
  EXPECT_EQ(ortho.cos_sim, 0.0);
  EXPECT_DOUBLE_EQ(ortho.rel_l1, 2.0);
  // Dtypes mix: half actual against a float64 reference.
  const ErrorMetrics half = compare(r.to(at::kHalf), r);
  EXPECT_EQ(half.max_abs, 0.0);
}

TEST(Metrics, NonFiniteAndZeroReference) {
  const ErrorMetrics nan = compare(at::tensor({1.0f, NAN, INFINITY}), at::tensor({1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(nan.nonfinite, 2);
  EXPECT_TRUE(std::isnan(nan.cos_sim));
  EXPECT_NE(nan.str().find("NONFINITE=2"), std::string::npos) << nan.str();
  const ErrorMetrics zero = compare(at::zeros({4}), at::zeros({4}));
  EXPECT_EQ(zero.rel_l1, 0.0);
  EXPECT_EQ(zero.cos_sim, 1.0);
  EXPECT_TRUE(std::isinf(compare(at::ones({4}), at::zeros({4})).rel_l1));
}

TEST(Metrics, PrintableAndChecked) {
  const ErrorMetrics m = compare(at::tensor({1.0, 2.0}), at::tensor({1.0, 2.5}));
  EXPECT_NE(m.str().find("cos 0.99"), std::string::npos) << m.str();
  EXPECT_NE(m.str().find("relL1 0.1429"), std::string::npos) << m.str();
  test::expect_error([] { compare(at::zeros({2, 3}), at::zeros({3, 2})); },
                     {"sageattn::compare: actual has shape [2, 3] but reference has [3, 2]"});
  test::expect_error([] { compare(at::zeros({0}), at::zeros({0})); }, {"empty"});
}

}  // namespace
}  // namespace sageattn
