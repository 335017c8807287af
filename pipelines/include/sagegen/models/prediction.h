// The one place where a DiT output becomes the flow-matching velocity, for the sampler and the
// trainer alike (model_config.h, Prediction).
#pragma once

#include <ATen/core/Tensor.h>

#include "sagegen/model_config.h"

namespace sagegen::models {

// Below this noise level a clean-sample prediction is not divided by t any further: the velocity
// (x_t - x0) / t would amplify the prediction's error without bound as t -> 0.
inline constexpr double kMinSampleNoiseLevel = 0.05;

// output: the DiT's output for x_t at noise level t in [0, 1] (x_t = (1 - t) x0 + t noise);
// t broadcasts against x_t (a scalar tensor, or [B, 1, 1, 1, 1]). Returns noise - x0 as the model
// predicts it: `output` itself for kVelocity, a float32 tensor for kSample.
at::Tensor velocity_from_output(const at::Tensor& output, const at::Tensor& x_t,
                                const at::Tensor& t, Prediction prediction);

}  // namespace sagegen::models
