// The two numbers of the schedule that change every step, the learning rate and the EMA's
// weight, held in tensors on the training device. A CUDA graph captures the kernels of a step
// with their scalar arguments frozen; kernels that read these tensors instead see each step's
// value, written (one fill each, before the step) by set().
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sagegen::train {

class StepScalars {
 public:
  // One EMA weight per element of `params` (views of one flat buffer, so the EMA stays one
  // multi-tensor lerp: ATen's fused path wants weights shaped as the tensors).
  explicit StepScalars(const std::vector<at::Tensor>& params);

  // lr: the learning rate of the step; ema_weight: 1 - its EMA decay (the lerp weight).
  void set(double lr, double ema_weight);

  const at::Tensor& lr() const { return lr_; }  // 0-dim float32: what _fused_adamw_ reads
  const std::vector<at::Tensor>& ema_weights() const { return ema_weights_; }

 private:
  at::Tensor lr_;
  at::Tensor ema_weight_flat_;
  std::vector<at::Tensor> ema_weights_;
};

}  // namespace sagegen::train
