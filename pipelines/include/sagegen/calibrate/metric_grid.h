// What the calibrator measured: for every (layer, step) and candidate variant, the error of the
// variant against full precision over all calibration runs (prompts x seeds), mean and worst.
#pragma once

#include <limits>
#include <vector>

#include "sageattn/types.h"

namespace sagegen::calibrate {

struct VariantStats {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int samples = 0;  // attention calls measured (one per run unless a step calls a layer twice)
  double cos_mean = kNaN;
  double rel_l1_mean = kNaN;
  double metric_mean = kNaN;  // CosSim * (1 - L1), the SageAttention2 paper's metric
  double cos_worst = kNaN;     // the lowest
  double rel_l1_worst = kNaN;  // the highest
  double metric_worst = kNaN;  // the lowest
};

// A [layers x steps x variants] grid of VariantStats.
class MetricGrid {
 public:
  MetricGrid(int layers, int steps, std::vector<sageattn::Variant> variants);

  int layers() const { return layers_; }
  int steps() const { return steps_; }
  const std::vector<sageattn::Variant>& variants() const { return variants_; }
  bool has(sageattn::Variant variant) const;

  // Throws std::out_of_range for a cell outside the grid or a variant not measured.
  VariantStats& at(int layer, int step, sageattn::Variant variant);
  const VariantStats& at(int layer, int step, sageattn::Variant variant) const;
  // True when some variant has samples at (layer, step): joint-attention models leave the odd
  // layer ids unused, and such cells are never called.
  bool observed(int layer, int step) const;

  int head_dim = 0;  // of the calls measured (costs are per head dim); 0 when none was seen

 private:
  std::size_t index(int layer, int step, sageattn::Variant variant) const;

  int layers_;
  int steps_;
  std::vector<sageattn::Variant> variants_;
  std::vector<VariantStats> cells_;
};

}  // namespace sagegen::calibrate
