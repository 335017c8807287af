// Flow-matching scheduler: shift formula, time grid, Euler integration against known ODE
// solutions, guidance and seeded noise.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "sagegen/scheduler.h"

namespace sagegen {
namespace {

TEST(Scheduler, ShiftFormula) {
  EXPECT_DOUBLE_EQ(shift_timestep(0.5, 3.0), 1.5 / 2.0);  // 3*0.5 / (1 + 2*0.5)
  EXPECT_DOUBLE_EQ(shift_timestep(0.25, 5.0), 1.25 / 2.0);
  for (double t : {0.0, 0.1, 0.5, 0.9, 1.0}) EXPECT_DOUBLE_EQ(shift_timestep(t, 1.0), t);
  EXPECT_DOUBLE_EQ(shift_timestep(0.0, 7.0), 0.0);
  EXPECT_DOUBLE_EQ(shift_timestep(1.0, 7.0), 1.0);
  EXPECT_GT(shift_timestep(0.3, 3.0), 0.3);  // shift > 1 stays longer at high noise
  EXPECT_THROW(shift_timestep(0.5, 0.0), c10::Error);
}

TEST(Scheduler, GridRunsFromOneToZeroDecreasing) {
  const FlowMatchEulerScheduler scheduler(10, 3.0);
  const auto& s = scheduler.sigmas();
  ASSERT_EQ(s.size(), 11u);
  EXPECT_DOUBLE_EQ(s.front(), 1.0);
  EXPECT_DOUBLE_EQ(s.back(), 0.0);
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_LT(s[i], s[i - 1]);
  EXPECT_DOUBLE_EQ(s[5], shift_timestep(0.5, 3.0));
  EXPECT_DOUBLE_EQ(scheduler.timestep(5), 1000.0 * shift_timestep(0.5, 3.0));
  EXPECT_THROW(scheduler.timestep(10), c10::Error);
  EXPECT_THROW(FlowMatchEulerScheduler(0, 1.0), c10::Error);
}

// dx/dt = c integrates exactly under Euler: x(0) = x(1) - c, whatever the grid.
TEST(Scheduler, ConstantVelocityLandsOnTheOdeSolution) {
  const at::Tensor noise = at::randn({2, 3, 4, 4}, at::kDouble);
  const at::Tensor c = at::randn({2, 3, 4, 4}, at::kDouble);
  for (double shift : {1.0, 3.0}) {
    const FlowMatchEulerScheduler scheduler(7, shift);
    at::Tensor x = noise.clone();
    for (int i = 0; i < scheduler.steps(); ++i) x = scheduler.step(x, c, i);
    EXPECT_TRUE(at::allclose(x, noise - c, 0, 1e-12)) << "shift " << shift;
  }
}

// The exact rectified-flow velocity of a straight path, (x - x0) / t, brings noise to x0.
TEST(Scheduler, ExactStraightPathVelocityRecoversTheData) {
  const at::Tensor x0 = at::randn({3, 8}, at::kDouble);
  const at::Tensor noise = at::randn({3, 8}, at::kDouble);
  const FlowMatchEulerScheduler scheduler(5, 2.0);
  at::Tensor x = noise.clone();
  for (int i = 0; i < scheduler.steps(); ++i) {
    const double t = scheduler.sigmas()[i];
    x = scheduler.step(x, (x - x0) / t, i);
  }
  EXPECT_TRUE(at::allclose(x, x0, 0, 1e-10));
}

// dx/dt = x has x(0) = x(1) / e; Euler converges to it at first order in the step size.
TEST(Scheduler, LinearFieldConvergesAtFirstOrder) {
  const at::Tensor x1 = at::full({1}, 1.0, at::kDouble);
  const auto error_with = [&](int steps) {
    const FlowMatchEulerScheduler scheduler(steps, 1.0);
    at::Tensor x = x1.clone();
    for (int i = 0; i < steps; ++i) x = scheduler.step(x, x, i);
    return std::abs(x.item<double>() - std::exp(-1.0));
  };
  const double e100 = error_with(100);
  const double e200 = error_with(200);
  EXPECT_LT(e100, 2e-3);
  EXPECT_NEAR(e100 / e200, 2.0, 0.05);
}

TEST(Scheduler, ClassifierFreeGuidance) {
  const at::Tensor cond = at::full({4}, 3.0);
  const at::Tensor uncond = at::full({4}, 1.0);
  EXPECT_TRUE(at::equal(guide(cond, uncond, 1.0), cond));
  EXPECT_TRUE(at::equal(guide(cond, uncond, 0.0), uncond));
  EXPECT_TRUE(at::allclose(guide(cond, uncond, 4.0), at::full({4}, 9.0)));
}

TEST(Scheduler, InitialNoiseIsSeededOnTheCpu) {
  const at::Tensor a = initial_noise({1, 3, 1, 8, 8}, 7, at::kCPU);
  const at::Tensor b = initial_noise({1, 3, 1, 8, 8}, 7, at::kCPU);
  const at::Tensor c = initial_noise({1, 3, 1, 8, 8}, 8, at::kCPU);
  EXPECT_EQ(a.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_FALSE(at::equal(a, c));
  EXPECT_NEAR(a.std().item<double>(), 1.0, 0.2);
}

}  // namespace
}  // namespace sagegen
