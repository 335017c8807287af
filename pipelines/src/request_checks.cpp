#include "request_checks.h"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "sagegen/errors.h"

namespace sagegen {
namespace {

std::vector<FieldValue> size_fields(const GenerateRequest& request) {
  return {{"width", std::to_string(request.width)}, {"height", std::to_string(request.height)}};
}

}  // namespace

SampleGrid check_request(const GenerateRequest& request, const ModelConfig& config) {
  if (request.steps < 1) {
    throw RequestError({{"steps", std::to_string(request.steps)}}, "must be >= 1");
  }
  if (request.frames < 1) {
    throw RequestError({{"frames", std::to_string(request.frames)}}, "must be >= 1");
  }
  if (!(request.shift > 0) || !std::isfinite(request.shift)) {
    throw RequestError({{"shift", fmt::format("{}", request.shift)}},
                       "must be a finite number > 0");
  }
  if (!std::isfinite(request.cfg_scale)) {
    throw RequestError({{"cfg_scale", fmt::format("{}", request.cfg_scale)}}, "must be finite");
  }
  if (std::abs(request.cfg_scale) > kMaxCfgScale) {
    throw RequestError({{"cfg_scale", fmt::format("{:g}", request.cfg_scale)}},
                       fmt::format("out of range (at most {:g} in magnitude)", kMaxCfgScale));
  }
  const Extent3& patch = config.dit.patch;
  const Extent3& scale = config.latent_scale;
  const int unit_w = patch.w * scale.w;
  const int unit_h = patch.h * scale.h;
  if (request.width < 1 || request.width % unit_w != 0) {
    throw RequestError(size_fields(request),
                       fmt::format("width {} must be a positive multiple of {} (model {}: patch "
                                   "{} x {} pixels per cell)",
                                   request.width, unit_w, config.name, patch.w, scale.w));
  }
  if (request.height < 1 || request.height % unit_h != 0) {
    throw RequestError(size_fields(request),
                       fmt::format("height {} must be a positive multiple of {} (model {}: "
                                   "patch {} x {} pixels per cell)",
                                   request.height, unit_h, config.name, patch.h, scale.h));
  }
  // A causal video VAE (Wan's) keeps the first frame alone and packs `scale.t` frames per cell.
  if ((request.frames - 1) % scale.t != 0) {
    throw RequestError(
        {{"frames", std::to_string(request.frames)}},
        fmt::format("model {} needs 1 + a multiple of {} frames", config.name, scale.t));
  }
  SampleGrid grid;
  grid.frames = (request.frames - 1) / scale.t + 1;
  grid.height = request.height / scale.h;
  grid.width = request.width / scale.w;
  if (grid.frames % patch.t != 0) {
    throw RequestError({{"frames", std::to_string(request.frames)}},
                       fmt::format("model {} needs a multiple of {} frames (patch)", config.name,
                                   patch.t * scale.t));
  }
  return grid;
}

}  // namespace sagegen
