// `sagegen calibrate`'s flags: the generation flags it shares (--model, --steps, --size, ...)
// plus its own. Every bad value is a UsageError naming the flag (exit 2, one line).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/common.h>

#include "generation_settings.h"
#include "sagegen/calibrate/calibrator.h"

namespace sagegen::cli {

struct CalibrateArgs {
  GenerationSettings settings;           // model, weights, steps, size, frames, cfg, device, ...
  std::string prompts_file;              // empty: the built-in prompts
  std::vector<std::int64_t> seeds = {0, 1};
  calibrate::Mode mode = calibrate::Mode::kPaper;
  double ratio = 0.3;
  double floor = 0.95;
  std::optional<std::string> arch;       // normalised ("sm90")
  std::string costs_file;                // empty: configs/costs/<arch>.yaml
  std::string out;                       // the table; empty: outputs/calibrated-<model>-<mode>.yaml
  std::string csv;                       // empty: none
  std::string heatmap;                   // empty: none
  bool overwrite = false;
  bool help = false;
  std::optional<spdlog::level::level_enum> log_level;
};

extern const char* const kCalibrateUsage;

// args: everything after "calibrate".
CalibrateArgs parse_calibrate_args(const std::vector<std::string>& args);

// "N" -> seeds 0..N-1 (N >= 1); "a,b,c" -> those seeds (a trailing comma makes one seed a list:
// "7," is seed 7).
std::vector<std::int64_t> parse_seeds(const std::string& text, const std::string& flag);

// One prompt per line (blank lines and lines starting with '#' skipped), or a YAML list of
// strings when the first non-blank line starts with "- " or "[". UsageError naming --prompts for
// a missing file, an empty one, or a YAML list holding a non-string.
std::vector<std::string> read_calibration_prompts(const std::string& path);

}  // namespace sagegen::cli
