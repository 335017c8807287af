// The learning-rate schedule, the timestep shift and the EMA update, kept apart from the trainer so the tests can
// pin their formulas.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sagegen::train {

// Linear warm-up from lr / warmup to lr over `warmup` steps (step is 0-based: step 0 trains at
// lr / warmup), then cosine decay from lr to lr * min_ratio at the last step (total_steps - 1).
double learning_rate_at(std::int64_t step, double lr, std::int64_t warmup,
                        std::int64_t total_steps, double min_ratio);

// The decay used after optimizer step `step` (0-based): min(decay, (1 + step) / (10 + step)),
// so early EMA weights are not dominated by the random initialisation.
double ema_decay_at(std::int64_t step, double decay);

// What to add to a standard normal draw z so that t = sigmoid(z * std + mean) becomes SD3's
// shifted timestep s t / (1 + (s - 1) t): ln(s) / std (the shift adds ln s to the logit of t).
double timestep_logit_offset(double shift, double logit_normal_std);

// ema = decay * ema + (1 - decay) * params, in place (torch._foreach_lerp_).
void ema_update(const std::vector<at::Tensor>& ema, const std::vector<at::Tensor>& params,
                double decay);

}  // namespace sagegen::train
