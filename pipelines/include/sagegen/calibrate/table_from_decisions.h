// Writes the calibrator's per-(layer, step) decisions as a compact PrecisionTable: the most
// common variant becomes the default, every other run of consecutive steps of a layer becomes a
// rule, and runs with the same steps, variant and reason in several layers share one rule.
// Each rule's `comment` carries the metric range that chose it. Layers are written by name
// (blocks.N.attn1 / blocks.N.attn2, sageattn/layer_names.h), fewest names first.
#pragma once

#include <string>

#include "sageattn/table.h"
#include "sagegen/calibrate/choose.h"

namespace sagegen::calibrate {

// A run reaching the last calibrated step is written open ("5-"), so the table also resolves
// for longer runs (their extra steps take the same variant); the model name is the config's.
// Throws std::invalid_argument when no cell was observed.
sageattn::PrecisionTable table_from_decisions(const Decisions& decisions, const std::string& model,
                                              const std::string& source_name = "<calibration>");

// The comment of a rule: what decided it and the range of that figure over its cells.
std::string rule_comment(Reason reason, double metric_low, double metric_high);

}  // namespace sagegen::calibrate
