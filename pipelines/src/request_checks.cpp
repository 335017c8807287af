#include "request_checks.h"

#include <fmt/format.h>

#include <cmath>

#include "sagegen/errors.h"

namespace sagegen {

SampleGrid check_request(const GenerateRequest& request, const ModelConfig& config) {
  if (request.steps < 1) {
    throw RequestError(fmt::format("--steps must be >= 1, got {}", request.steps));
  }
  if (request.frames < 1) {
    throw RequestError(fmt::format("--frames must be >= 1, got {}", request.frames));
  }
  if (!(request.shift > 0) || !std::isfinite(request.shift)) {
    throw RequestError(fmt::format("shift must be a finite number > 0, got {}", request.shift));
  }
  if (!std::isfinite(request.cfg_scale)) {
    throw RequestError(fmt::format("--cfg-scale must be finite, got {}", request.cfg_scale));
  }
  if (std::abs(request.cfg_scale) > kMaxCfgScale) {
    throw RequestError(fmt::format("--cfg-scale {:g} is out of range (at most {:g} in magnitude)",
                                   request.cfg_scale, kMaxCfgScale));
  }
  const Extent3& patch = config.dit.patch;
  const Extent3& scale = config.latent_scale;
  const int unit_w = patch.w * scale.w;
  const int unit_h = patch.h * scale.h;
  if (request.width < 1 || request.width % unit_w != 0) {
    throw RequestError(fmt::format(
        "--size {}x{}: width {} must be a positive multiple of {} (model {}: patch {} x "
        "{} pixels per cell)",
        request.width, request.height, request.width, unit_w, config.name, patch.w, scale.w));
  }
  if (request.height < 1 || request.height % unit_h != 0) {
    throw RequestError(fmt::format(
        "--size {}x{}: height {} must be a positive multiple of {} (model {}: patch {} x "
        "{} pixels per cell)",
        request.width, request.height, request.height, unit_h, config.name, patch.h, scale.h));
  }
  // A causal video VAE (Wan's) keeps the first frame alone and packs `scale.t` frames per cell.
  if ((request.frames - 1) % scale.t != 0) {
    throw RequestError(fmt::format("--frames {}: model {} needs 1 + a multiple of {} frames",
                                   request.frames, config.name, scale.t));
  }
  SampleGrid grid;
  grid.frames = (request.frames - 1) / scale.t + 1;
  grid.height = request.height / scale.h;
  grid.width = request.width / scale.w;
  if (grid.frames % patch.t != 0) {
    throw RequestError(fmt::format("--frames {}: model {} needs a multiple of {} frames (patch)",
                                   request.frames, config.name, patch.t * scale.t));
  }
  return grid;
}

}  // namespace sagegen
