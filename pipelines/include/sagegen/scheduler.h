// Flow matching (rectified flow): x_t = (1 - t) x0 + t * noise, the model predicts the velocity
// v = noise - x0, and sampling integrates dx/dt = v from t = 1 to t = 0 with Euler steps on a
// shifted time grid t' = shift * t / (1 + (shift - 1) t) (shift > 1 spends more steps at high
// noise, as SD3/Wan do for large images).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sagegen {

// The DiT's timestep input is the noise level sigma in [0, 1] times this (Wan's scale).
inline constexpr double kTimestepScale = 1000.0;

// t' = shift * t / (1 + (shift - 1) * t). shift > 0.
double shift_timestep(double t, double shift);

class FlowMatchEulerScheduler {
 public:
  // steps >= 1; shift > 0. The grid is linspace(1, 0, steps + 1), shifted.
  FlowMatchEulerScheduler(int steps, double shift);

  int steps() const { return static_cast<int>(sigmas_.size()) - 1; }
  // steps + 1 values: sigmas()[0] = 1, sigmas()[steps] = 0, decreasing.
  const std::vector<double>& sigmas() const { return sigmas_; }
  // The model's timestep input at step i: sigma * 1000 (Wan's scale).
  double timestep(int step) const;

  // One Euler step: x + (sigma[i+1] - sigma[i]) * velocity, in x's dtype.
  at::Tensor step(const at::Tensor& x, const at::Tensor& velocity, int step) const;

 private:
  std::vector<double> sigmas_;
};

// Classifier-free guidance: v_uncond + cfg * (v_cond - v_uncond).
at::Tensor guide(const at::Tensor& v_cond, const at::Tensor& v_uncond, double cfg_scale);

// Standard normal noise of `shape` (float32) drawn on the CPU from `seed`, then moved to
// `device`: CPU and GPU runs of one seed start from the same noise.
at::Tensor initial_noise(at::IntArrayRef shape, std::int64_t seed, const at::Device& device);

}  // namespace sagegen
