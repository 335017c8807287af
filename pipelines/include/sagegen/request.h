// What loading a model and one generation ask for: the CLI, batch files and tests fill them;
// pipelines consume them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sageattn/types.h"

namespace sagegen {

// Guidance beyond this saturates every pixel (typical scales are 1-10); 1e308 overflowed to
// NaN and gave a black image, so larger magnitudes are refused.
constexpr double kMaxCfgScale = 100.0;

enum class DeviceChoice { kAuto, kCpu, kCuda };

// What fixes a loaded model (Pipeline::load, pipeline.h): one set of these serves many
// GenerateRequests. The dtype is not a choice: the model config and the device decide it.
struct LoadOptions {
  std::string model = "sagegen-tiny";  // a name under configs/models/ or a path to a config YAML
  std::string weights;                 // empty: the model config's default weights
  std::string table;  // adaptive precision table YAML, the pipeline's default (empty: the config's)
  DeviceChoice device = DeviceChoice::kAuto;
};

// What one generate() call asks of a loaded pipeline: every field may change from call to call.
struct GenerateRequest {
  std::string prompt;
  std::string negative_prompt;
  std::int64_t seed = 42;  // resolved: the CLI turns a negative seed into a random one
  int steps = 20;
  double cfg_scale = 4.0;
  double shift = 1.0;  // flow-matching timestep shift
  int width = 64;
  int height = 64;
  int frames = 1;  // 1 = text-to-image
  double fps = 8.0;
  std::string table;  // adaptive precision table YAML for this call (empty: the loaded one)
  std::optional<sageattn::Variant> attention;  // overrides the table for this call
  // Words of the prompt the model has no embedding for: a warning naming them, or with
  // strict_prompt a RequestError before any work.
  bool strict_prompt = false;
};

// The sampling settings one calibration or comparison repeats over its prompts, seeds, variants
// and tables: one struct, read from and written to a request, instead of field-by-field copies.
struct SamplingSettings {
  int steps = 20;
  double cfg_scale = 4.0;
  double shift = 1.0;
  int width = 64;
  int height = 64;
  int frames = 1;

  static SamplingSettings of(const GenerateRequest& request) {
    return {request.steps, request.cfg_scale, request.shift,
            request.width, request.height,    request.frames};
  }
  void apply_to(GenerateRequest& request) const {
    request.steps = steps;
    request.cfg_scale = cfg_scale;
    request.shift = shift;
    request.width = width;
    request.height = height;
    request.frames = frames;
  }
};

}  // namespace sagegen
