#include "sagegen/models/prediction.h"

#include <ATen/ATen.h>

namespace sagegen::models {

at::Tensor velocity_from_output(const at::Tensor& output, const at::Tensor& x_t,
                                const at::Tensor& t, Prediction prediction) {
  if (prediction == Prediction::kVelocity) return output;
  // x_t = (1 - t) x0 + t noise  =>  noise - x0 = (x_t - x0) / t.
  // In float32: the division magnifies a bf16 output's rounding by up to 1 / kMinSampleNoiseLevel.
  return (x_t.to(at::kFloat) - output.to(at::kFloat)) / t.to(at::kFloat).clamp_min(kMinSampleNoiseLevel);
}

}  // namespace sagegen::models
