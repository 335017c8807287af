// `sagegen calibrate` as a library: run the model in full precision over calibration prompts x
// seeds, measure every candidate variant on each DiT attention call (MetricAccumulator), then
// choose a variant per (layer, step) (choose.h) and write a table (table_from_decisions.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sagegen/calibrate/arch_costs.h"
#include "sagegen/calibrate/choose.h"
#include "sagegen/calibrate/metric_grid.h"
#include "sagegen/pipeline.h"

namespace sagegen::calibrate {

struct CalibrationOptions {
  std::vector<std::string> prompts;   // at least one
  std::vector<std::int64_t> seeds;    // at least one; every prompt runs with every seed
  SamplingSettings sampling;  // steps, cfg, shift, size and frames of every run
  std::string negative_prompt;
  // Measured against fp16 on every call; sage2-4b and sage2-8b are what --mode paper needs.
  std::vector<sageattn::Variant> candidates = {sageattn::Variant::kSage2Int4,
                                               sageattn::Variant::kSage2Int8,
                                               sageattn::Variant::kSage1};
  // Who computes the candidates: auto = the kernels on CUDA, the golden model on the CPU;
  // golden measures on a GPU the numerics of variants it has no kernel for (slow: host copies).
  sageattn::Engine engine = sageattn::Engine::kAuto;
};

// The built-in calibration prompts: 8 captions of the shapes world's fixed "seen" evaluation set
// (colours, shapes, sizes, positions, relations; with a motion each when frames > 1).
std::vector<std::string> default_calibration_prompts(int frames);

struct Measurement {
  MetricGrid grid;
  std::map<sageattn::Variant, std::string> unavailable;  // candidates that could not run here
  std::int64_t calls = 0;  // DiT attention calls measured
  int runs = 0;            // prompts x seeds
  // The model's own precision rules ("blocks.*.attn2: fp16"): the (layer, step) pairs they
  // decide were not measured (they stay unobserved in the grid), since a table's default never
  // reaches them; a rule written by hand can still name them.
  std::vector<std::string> model_rules;
};

// done: runs finished (1..total).
using RunProgressFn = std::function<void(int done, int total)>;

// Generates every (prompt, seed) with fp16 attention everywhere and measures the candidates on
// every DiT call the model's own precision rules leave to the table (Pipeline::
// model_precision_rules: a Wan folder's cross-attention is not measured). std::runtime_error when no candidate runs on the device. Errors from the pipeline (RequestError for a bad size, ...) propagate; the
// pipeline's attention observer is removed again on return or throw.
Measurement measure(Pipeline& pipeline, const CalibrationOptions& options,
                    const RunProgressFn& progress = {});

enum class Mode { kPaper, kLadder };
std::optional<Mode> parse_mode(const std::string& text);
std::string_view to_string(Mode mode);

struct ChoiceSettings {
  Mode mode = Mode::kPaper;
  double ratio = 0.3;   // paper: fraction of pairs sent to sage2-8b, in (0, 1]
  double floor = 0.95;  // ladder: minimum worst CosSim*(1-L1), in [0, 1]
  std::optional<ArchCosts> costs;  // ladder: required
};

// choose_paper or choose_ladder. std::invalid_argument for a ladder without costs.
Decisions decide(const MetricGrid& grid, const ChoiceSettings& settings);

// The header comment of a calibrated table: how it was made (mode, ratio or floor, arch and
// costs file, prompts, seeds, steps, size, frames, device, date) and what it decided.
std::string table_header(const CalibrationOptions& options, const ChoiceSettings& settings,
                         const Measurement& measurement, const Decisions& decisions,
                         const std::string& model, const std::string& device,
                         const std::string& utc_date);

// "2026-11-26 01:02 UTC"
std::string utc_now();

}  // namespace sagegen::calibrate
