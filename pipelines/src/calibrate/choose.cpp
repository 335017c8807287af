#include "sagegen/calibrate/choose.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sagegen::calibrate {
namespace {

using sageattn::Variant;

Decisions empty_decisions(const MetricGrid& grid) {
  Decisions d;
  d.layers = grid.layers();
  d.steps = grid.steps();
  d.cells.resize(static_cast<std::size_t>(d.layers) * d.steps);
  return d;
}

// NaN sorts below every number: a broken measurement is the worst.
double rankable(double metric) {
  return std::isnan(metric) ? -std::numeric_limits<double>::infinity() : metric;
}

}  // namespace

const std::vector<Variant>& ladder_order() {
  static const std::vector<Variant> order = {Variant::kFp16, Variant::kSage1,
                                             Variant::kSage2Int8, Variant::kSage2Int4};
  return order;
}

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::kRankedWorst: return "ranked-worst";
    case Reason::kRankedBetter: return "ranked-better";
    case Reason::kMeetsFloor: return "meets-floor";
    case Reason::kCheapest: return "cheapest";
    case Reason::kBelowFloor: return "below-floor";
    case Reason::kUnobserved: return "unobserved";
  }
  return "?";
}

int Decisions::count(Variant variant) const {
  int n = 0;
  for (const auto& cell : cells) n += cell.reason != Reason::kUnobserved && cell.variant == variant;
  return n;
}

int Decisions::observed() const {
  int n = 0;
  for (const auto& cell : cells) n += cell.reason != Reason::kUnobserved;
  return n;
}

Decisions choose_paper(const MetricGrid& grid, double ratio) {
  if (!(ratio > 0.0 && ratio <= 1.0)) {
    throw std::invalid_argument("paper calibration: ratio must be in (0, 1], got " +
                                std::to_string(ratio));
  }
  for (Variant needed : {Variant::kSage2Int4, Variant::kSage2Int8}) {
    if (!grid.has(needed)) {
      throw std::invalid_argument(std::string("paper calibration: needs ") +
                                  std::string(sageattn::to_string(needed)) + " measured");
    }
  }
  Decisions d = empty_decisions(grid);
  struct Pair {
    int layer, step;
    double metric;
  };
  std::vector<Pair> pairs;
  for (int layer = 0; layer < grid.layers(); ++layer) {
    for (int step = 0; step < grid.steps(); ++step) {
      if (!grid.observed(layer, step)) continue;
      const VariantStats& four = grid.at(layer, step, Variant::kSage2Int4);
      if (four.samples == 0 || grid.at(layer, step, Variant::kSage2Int8).samples == 0) {
        throw std::invalid_argument("paper calibration: sage2-4b and sage2-8b were not measured at "
                                    "(layer " + std::to_string(layer) + ", step " +
                                    std::to_string(step) + "): they must run on this device");
      }
      pairs.push_back({layer, step, four.metric_mean});
    }
  }
  // Stable on (layer, step) order, so equal metrics keep a reproducible ranking.
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
    return rankable(a.metric) < rankable(b.metric);
  });
  const auto to_eight = static_cast<std::size_t>(std::lround(ratio * static_cast<double>(pairs.size())));
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    CellDecision& cell = d.at(pairs[i].layer, pairs[i].step);
    const bool worst = i < to_eight;
    cell.variant = worst ? Variant::kSage2Int8 : Variant::kSage2Int4;
    cell.reason = worst ? Reason::kRankedWorst : Reason::kRankedBetter;
    cell.metric = pairs[i].metric;
  }
  return d;
}

Decisions choose_ladder(const MetricGrid& grid, double floor, const ArchCosts& costs) {
  if (!(floor >= 0.0 && floor <= 1.0)) {
    throw std::invalid_argument("ladder calibration: floor must be in [0, 1], got " +
                                std::to_string(floor));
  }
  // The rungs this arch runs, cheapest first.
  struct Rung {
    Variant variant;
    double cost;
  };
  std::vector<Rung> rungs;
  for (Variant v : ladder_order()) {
    if (v != Variant::kFp16 && !grid.has(v)) continue;
    if (const auto cost = costs.cost(v, grid.head_dim)) rungs.push_back({v, *cost});
  }
  std::stable_sort(rungs.begin(), rungs.end(),  // ladder_order is most precise first
                   [](const Rung& a, const Rung& b) { return a.cost < b.cost; });

  Decisions d = empty_decisions(grid);
  for (int layer = 0; layer < grid.layers(); ++layer) {
    for (int step = 0; step < grid.steps(); ++step) {
      if (!grid.observed(layer, step)) continue;
      CellDecision& cell = d.at(layer, step);
      double best_tried = VariantStats::kNaN;
      for (const Rung& rung : rungs) {
        if (rung.variant == Variant::kFp16) {
          cell.variant = Variant::kFp16;
          cell.reason = std::isnan(best_tried) ? Reason::kCheapest : Reason::kBelowFloor;
          cell.metric = best_tried;
          break;
        }
        const VariantStats& stats = grid.at(layer, step, rung.variant);
        if (stats.samples == 0) continue;  // could not run here
        if (stats.metric_worst >= floor) {   // false for NaN
          cell.variant = rung.variant;
          cell.reason = Reason::kMeetsFloor;
          cell.metric = stats.metric_worst;
          break;
        }
        if (!std::isnan(stats.metric_worst) &&
            (std::isnan(best_tried) || stats.metric_worst > best_tried)) {
          best_tried = stats.metric_worst;
        }
      }
    }
  }
  return d;
}

}  // namespace sagegen::calibrate
