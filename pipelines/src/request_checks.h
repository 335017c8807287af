// Checks a request against a model and turns pixel sizes into the model's grid. Every failure
// is a RequestError naming the CLI flag and the bad value.
#pragma once

#include "sagegen/model_config.h"
#include "sagegen/request.h"

namespace sagegen {

// The denoised tensor's [frames, height, width] in the model's cells (latent or pixel).
struct SampleGrid {
  int frames = 1;
  int height = 0;
  int width = 0;
};

// Size a multiple of patch * latent scale, frames >= 1 (and 1 + k * temporal scale for latent
// models), steps >= 1, shift > 0, finite cfg.
SampleGrid check_request(const GenerateRequest& request, const ModelConfig& config);

}  // namespace sagegen
