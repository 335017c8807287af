#include "sagegen/train/schedule.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>

namespace sagegen::train {

double learning_rate_at(std::int64_t step, double lr, std::int64_t warmup,
                        std::int64_t total_steps, double min_ratio) {
  TORCH_CHECK(step >= 0 && total_steps >= 1, "learning_rate_at: step must be >= 0 and "
              "total_steps >= 1, got ", step, " and ", total_steps);
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const std::int64_t decay_steps = std::max<std::int64_t>(total_steps - 1 - warmup, 1);
  const double progress =
      std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(decay_steps));
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return lr * (min_ratio + (1.0 - min_ratio) * cosine);
}

double ema_decay_at(std::int64_t step, double decay) {
  return std::min(decay, static_cast<double>(1 + step) / static_cast<double>(10 + step));
}

double timestep_logit_offset(double shift, double logit_normal_std) {
  TORCH_CHECK(shift > 0.0 && logit_normal_std > 0.0, "timestep_logit_offset: shift and std must be "
              "> 0, got ", shift, " and ", logit_normal_std);
  return std::log(shift) / logit_normal_std;
}

void ema_update(const std::vector<at::Tensor>& ema, const std::vector<at::Tensor>& params,
                double decay) {
  TORCH_CHECK(ema.size() == params.size(), "ema_update: ", ema.size(), " EMA tensors for ",
              params.size(), " parameters");
  at::NoGradGuard no_grad;
  at::_foreach_lerp_(ema, params, 1.0 - decay);
}

}  // namespace sagegen::train
