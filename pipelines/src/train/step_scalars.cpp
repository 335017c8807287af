#include "step_scalars.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace sagegen::train {

StepScalars::StepScalars(const std::vector<at::Tensor>& params) {
  TORCH_CHECK(!params.empty(), "StepScalars: no parameters");
  at::NoGradGuard no_grad;
  // float32, as the scalars they replace reach the kernels (AdamW's lr and lerp's weight are
  // rounded to float there): a step reads the same values either way.
  const at::TensorOptions options = params.front().options().dtype(at::kFloat);
  lr_ = at::zeros({}, options);
  std::int64_t total = 0;
  for (const auto& p : params) total += p.numel();
  ema_weight_flat_ = at::zeros({total}, options);
  std::int64_t offset = 0;
  for (const auto& p : params) {
    ema_weights_.push_back(ema_weight_flat_.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
}

void StepScalars::set(double lr, double ema_weight) {
  at::NoGradGuard no_grad;
  lr_.fill_(lr);
  ema_weight_flat_.fill_(ema_weight);
}

}  // namespace sagegen::train
