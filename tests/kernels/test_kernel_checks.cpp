// The GPU tests' own instruments, checked on the CPU (these run in CI): the ULP distance and the
// guard/unchanged-input check must see what they are meant to see.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "kernel_case.h"
#include "kernel_checks.h"

namespace sagegen::kernel_tests {
namespace {

TEST(UlpDistance, OneBf16StepIsOneUlp) {
  // 1.0 .. 1.5 in bf16 steps of 2^-7: every neighbour is one ULP away.
  const at::Tensor expected = 1.0 + at::arange(64, at::kDouble) / 128.0;
  const at::Tensor one_up = expected + 1.0 / 128.0;
  const UlpStats stats = ulp_distance(one_up.to(at::kBFloat16), expected, at::kBFloat16);
  EXPECT_DOUBLE_EQ(stats.max_ulp, 1.0);
  EXPECT_EQ(stats.frac_over_2, 0.0);
}

TEST(UlpDistance, SameStepIsMoreUlpsInFp16) {
  const at::Tensor expected = 1.0 + at::arange(64, at::kDouble) / 128.0;
  const UlpStats stats = ulp_distance(expected + 1.0 / 128.0, expected, at::kHalf);
  EXPECT_DOUBLE_EQ(stats.max_ulp, 8.0);  // 2^-7 / 2^-10
  EXPECT_EQ(stats.frac_over_2, 1.0);
  EXPECT_EQ(stats.frac_over_8, 0.0);
}

TEST(UlpDistance, NearZeroOutputsCountAtTheFloorMagnitude) {
  // A tiny expected value next to values of size 1 (rms just under 1, floor just under 2^-6,
  // whose bf16 ULP is 2^-14): an absolute error of 2^-15 is half a ULP there, not 10^5 ULPs at
  // the tiny value's own magnitude.
  at::Tensor expected = at::ones({256}, at::kDouble);
  expected[0] = 1e-9;
  at::Tensor actual = expected.clone();
  actual[0] = 1e-9 + std::ldexp(1.0, -15);
  const UlpStats stats = ulp_distance(actual, expected, at::kBFloat16);
  EXPECT_NEAR(stats.max_ulp, 0.5, 1e-6);
}

TEST(UlpDistance, NanInActualIsReportedAndFailsEveryBound) {
  at::Tensor actual = at::ones({8}, at::kDouble);
  actual[3] = std::numeric_limits<double>::quiet_NaN();
  const UlpStats stats = ulp_distance(actual, at::ones({8}, at::kDouble), at::kBFloat16);
  EXPECT_EQ(stats.nonfinite, 1);
  EXPECT_GT(stats.max_ulp, 1e30);
}

// The bit comparison of two outputs: same bits read empty; a zero's sign and a one-ULP step are
// differences, counted, in both element sizes.
TEST(BitDifference, SeesASignedZeroAndOneUlp) {
  const at::Tensor expected = at::arange(8, at::kFloat).to(at::kBFloat16);
  EXPECT_EQ(bit_difference(expected.clone(), expected), "");
  at::Tensor actual = expected.clone();
  actual[0] = -0.0;  // equal as a value to +0.0
  EXPECT_TRUE(at::equal(actual, expected)) << "the values must compare equal";
  const std::string sign = bit_difference(actual, expected);
  EXPECT_NE(sign.find("1 of 8 elements differ"), std::string::npos) << sign;
  actual[5] = 5.0f + 1.0f / 32;  // one bf16 step above 5
  const std::string two = bit_difference(actual, expected);
  EXPECT_NE(two.find("2 of 8 elements differ, max |diff| 0.03125"), std::string::npos) << two;
  const at::Tensor lse = at::ones({4}, at::kFloat);
  at::Tensor lse_off = lse.clone();
  lse_off[2] = std::nextafter(1.0f, 2.0f);
  EXPECT_EQ(bit_difference(lse.clone(), lse), "");
  const std::string fp32 = bit_difference(lse_off, lse);
  EXPECT_NE(fp32.find("1 of 4 elements differ"), std::string::npos) << fp32;
}

TEST(GuardedInputs, DetectsAWriteIntoAGuardAndAModifiedInput) {
  KernelCase c;
  c.len_q = c.len_k = 75;
  GuardedInputs in = make_guarded_inputs(c, /*seed=*/7, c10::kCPU);
  EXPECT_EQ(check_inputs_untouched(in), "");
  EXPECT_FALSE(at::isnan(in.q).any().item<bool>()) << "the tensor itself must hold numbers";
  in.k_buffer[in.k_buffer.numel() - 1] = 0.0;  // the last element of k's trailing guard
  in.v[0][0][0][0] = 42.0;
  const std::string problems = check_inputs_untouched(in);
  EXPECT_NE(problems.find("k's guard"), std::string::npos) << problems;
  EXPECT_NE(problems.find("v was modified"), std::string::npos) << problems;
  EXPECT_EQ(problems.find("q"), std::string::npos) << problems;
}

// The output check relies on this: after poisoning, memory the API allocates reads NaN until
// written, in both allocator pools (a small LSE and a large output).
TEST(PoisonedAllocator, FreshAllocationsReadNaNUntilWritten) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the allocator poisoning needs one";
  for (const int64_t elements : {int64_t{3000}, int64_t{8} << 20}) {
    poison_cuda_allocator(int64_t{64} << 20);
    const at::Tensor fresh =
        at::empty({elements}, at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16));
    EXPECT_TRUE(at::isnan(fresh).all().item<bool>()) << elements << " elements";
  }
}

TEST(KernelCases, NamesAreUniqueAndCoverTheRequiredShapes) {
  const auto cases = all_kernel_cases();
  std::set<std::string> names;
  for (const auto& c : cases) EXPECT_TRUE(names.insert(c.name()).second) << c.name();
  for (const char* needle : {"Lq1_", "Lq75_", "Lq113_", "Lq1000_", "Lq4096_", "Lq32768_",
                             "_H8x2_", "NHD", "fp16_HND", "_D64_", "_D72_", "_D256_", "_causal",
                             "sage2_8b_", "sage2_4b_", "sage1_", "fp16_bf16"}) {
    bool found = false;
    for (const auto& name : names) found = found || name.find(needle) != std::string::npos;
    EXPECT_TRUE(found) << "no case named like *" << needle << "*";
  }
}

}  // namespace
}  // namespace sagegen::kernel_tests
