#include "sagegen/scheduler.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace sagegen {

double shift_timestep(double t, double shift) {
  TORCH_CHECK(shift > 0, "shift_timestep: shift must be > 0, got ", shift);
  return shift * t / (1.0 + (shift - 1.0) * t);
}

FlowMatchEulerScheduler::FlowMatchEulerScheduler(int steps, double shift) {
  TORCH_CHECK(steps >= 1, "FlowMatchEulerScheduler: steps must be >= 1, got ", steps);
  TORCH_CHECK(shift > 0, "FlowMatchEulerScheduler: shift must be > 0, got ", shift);
  sigmas_.reserve(steps + 1);
  for (int i = 0; i <= steps; ++i) {
    const double t = 1.0 - static_cast<double>(i) / steps;
    sigmas_.push_back(shift_timestep(t, shift));
  }
  sigmas_.back() = 0.0;  // exact end point, whatever rounding did
}

double FlowMatchEulerScheduler::timestep(int step) const {
  TORCH_CHECK(step >= 0 && step < steps(), "FlowMatchEulerScheduler: step ", step,
              " out of range [0, ", steps(), ")");
  return sigmas_[step] * kTimestepScale;
}

at::Tensor FlowMatchEulerScheduler::step(const at::Tensor& x, const at::Tensor& velocity,
                                         int step) const {
  TORCH_CHECK(step >= 0 && step < steps(), "FlowMatchEulerScheduler: step ", step,
              " out of range [0, ", steps(), ")");
  const double dt = sigmas_[step + 1] - sigmas_[step];
  return (x + velocity.to(x.scalar_type()) * dt);
}

at::Tensor guide(const at::Tensor& v_cond, const at::Tensor& v_uncond, double cfg_scale) {
  return v_uncond + (v_cond - v_uncond) * cfg_scale;
}

at::Tensor initial_noise(at::IntArrayRef shape, std::int64_t seed, const at::Device& device) {
  at::Generator gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(seed));
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat)).to(device);
}

}  // namespace sagegen
