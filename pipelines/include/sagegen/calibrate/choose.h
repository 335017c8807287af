// The two ways the calibrator turns measured errors into a variant per (layer, step):
//  - paper: rank the pairs by the 4-bit metric and send the worst fraction to 8-bit, the rest to
//    4-bit (SageAttention2's adaptive scheme);
//  - ladder: per pair the cheapest variant on the target arch whose worst metric over the
//    calibration runs meets a floor, fp16 when none does.
#pragma once

#include <string>
#include <vector>

#include "sagegen/calibrate/arch_costs.h"
#include "sagegen/calibrate/metric_grid.h"

namespace sagegen::calibrate {

// Why a cell got its variant (rules of a written table group cells with the same reason).
enum class Reason {
  kRankedWorst,   // paper: among the worst `ratio` by the 4-bit metric -> sage2-8b
  kRankedBetter,  // paper: the rest -> sage2-4b
  kMeetsFloor,    // ladder: the cheapest variant whose worst metric >= floor
  kCheapest,      // ladder: fp16 costs least on the arch (nothing cheaper to try)
  kBelowFloor,    // ladder: no cheaper variant meets the floor -> fp16
  kUnobserved,    // the model never calls this (layer, step): the default applies
};

struct CellDecision {
  sageattn::Variant variant = sageattn::Variant::kFp16;
  Reason reason = Reason::kUnobserved;
  // The figure that decided: paper: the 4-bit metric (mean over runs); ladder: the chosen
  // variant's worst metric, or for fp16 the best worst metric among the variants cheaper than
  // it (NaN when none was cheaper).
  double metric = VariantStats::kNaN;
};

struct Decisions {
  int layers = 0;
  int steps = 0;
  std::vector<CellDecision> cells;  // [layer * steps + step]
  CellDecision& at(int layer, int step) { return cells[static_cast<std::size_t>(layer) * steps + step]; }
  const CellDecision& at(int layer, int step) const {
    return cells[static_cast<std::size_t>(layer) * steps + step];
  }
  int count(sageattn::Variant variant) const;
  int observed() const;  // cells that are not kUnobserved
};

// ratio in (0, 1]. Needs sage2-4b and sage2-8b measured in every observed cell
// (std::invalid_argument otherwise). round(ratio * observed pairs) pairs go to sage2-8b: the
// lowest mean 4-bit metric first (NaN counts as the lowest; ties: lower layer, then step).
Decisions choose_paper(const MetricGrid& grid, double ratio);

// floor in [0, 1]. Candidates: fp16 and the measured variants the costs file lists, tried
// cheapest first (equal costs: the more precise first, fp16 > sage1 > sage2-8b > sage2-4b).
Decisions choose_ladder(const MetricGrid& grid, double floor, const ArchCosts& costs);

// The ladder order, most precise first.
const std::vector<sageattn::Variant>& ladder_order();
std::string_view to_string(Reason reason);

}  // namespace sagegen::calibrate
