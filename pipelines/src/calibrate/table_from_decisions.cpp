#include "sagegen/calibrate/table_from_decisions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <tuple>

namespace sagegen::calibrate {
namespace {

using sageattn::Variant;

std::string range_text(double low, double high) {
  if (std::isnan(low) || std::isnan(high)) return "nan";
  const std::string a = fmt::format("{:.4f}", low), b = fmt::format("{:.4f}", high);
  return a == b ? a : a + "-" + b;
}

Variant most_common(const Decisions& d) {
  std::map<Variant, int> counts;
  for (const auto& cell : d.cells) {
    if (cell.reason != Reason::kUnobserved) ++counts[cell.variant];
  }
  if (counts.empty()) throw std::invalid_argument("calibrated table: no (layer, step) was observed");
  Variant best = Variant::kFp16;
  int best_count = -1;
  for (Variant v : ladder_order()) {  // most precise first: it wins ties
    const auto found = counts.find(v);
    if (found != counts.end() && found->second > best_count) {
      best = v;
      best_count = found->second;
    }
  }
  return best;
}

// A run of steps [first, last] of one layer with one decision.
struct StepRun {
  int first = 0;
  int last = 0;
  Variant variant = Variant::kFp16;
  Reason reason = Reason::kUnobserved;
  double low = 0, high = 0;  // the metric's range over the run
};

void widen(double& low, double& high, double value) {
  if (std::isnan(low)) return;  // NaN sticks: a broken measurement must show in the comment
  if (std::isnan(value)) {
    low = high = value;
    return;
  }
  low = std::min(low, value);
  high = std::max(high, value);
}

}  // namespace

std::string rule_comment(Reason reason, double low, double high) {
  const std::string range = range_text(low, high);
  switch (reason) {
    case Reason::kRankedWorst: return "4-bit CosSim*(1-L1) mean " + range + ": among the worst ranked";
    case Reason::kRankedBetter: return "4-bit CosSim*(1-L1) mean " + range;
    case Reason::kMeetsFloor: return "worst CosSim*(1-L1) " + range + " meets the floor";
    case Reason::kCheapest: return "fp16 is the cheapest variant on the target arch";
    case Reason::kBelowFloor:
      return "no cheaper variant meets the floor (best worst CosSim*(1-L1) " + range + ")";
    case Reason::kUnobserved: return "never called";
  }
  return {};
}

sageattn::PrecisionTable table_from_decisions(const Decisions& d, const std::string& model,
                                              const std::string& source_name) {
  const Variant default_variant = most_common(d);
  // Key: (first step, last step, variant, reason) -> layers, each with its metric range.
  using Key = std::tuple<int, int, Variant, Reason>;
  struct Group {
    std::vector<int> layers;
    double low = 0, high = 0;
    bool any = false;
  };
  std::map<Key, Group> groups;
  for (int layer = 0; layer < d.layers; ++layer) {
    std::vector<StepRun> runs;
    for (int step = 0; step < d.steps; ++step) {
      const CellDecision& cell = d.at(layer, step);
      if (cell.reason == Reason::kUnobserved) continue;
      if (!runs.empty() && runs.back().last == step - 1 && runs.back().variant == cell.variant &&
          runs.back().reason == cell.reason) {
        runs.back().last = step;
        widen(runs.back().low, runs.back().high, cell.metric);
      } else {
        runs.push_back({step, step, cell.variant, cell.reason, cell.metric, cell.metric});
      }
    }
    for (const StepRun& run : runs) {
      if (run.variant == default_variant) continue;
      Group& group = groups[Key{run.first, run.last, run.variant, run.reason}];
      group.layers.push_back(layer);
      if (!group.any) {
        group.low = run.low;
        group.high = run.high;
        group.any = true;
      } else {
        widen(group.low, group.high, run.low);
        widen(group.low, group.high, run.high);
      }
    }
  }

  std::vector<sageattn::TableRule> rules;
  for (const auto& [key, group] : groups) {
    const auto& [first, last, variant, reason] = key;
    sageattn::TableRule rule;
    // Layers by name (blocks.3.attn2, "blocks.*.attn2"): a reader sees at once which are
    // cross-attention. Every layer of the model is `all`.
    const bool every_layer = static_cast<int>(group.layers.size()) == d.layers;
    rule.layers = every_layer ? sageattn::IndexSet::all()
                              : sageattn::IndexSet::of_named_layers(group.layers, d.layers);
    const bool to_end = last == d.steps - 1;
    if (to_end && first == 0) {
      rule.steps = sageattn::IndexSet::all();
    } else {
      sageattn::IndexSpan steps{first, last, {}};
      if (to_end) steps.last.reset();
      rule.steps = sageattn::IndexSet::of({steps});
    }
    rule.variant = variant;
    rule.comment = rule_comment(reason, group.low, group.high);
    rules.push_back(std::move(rule));
  }
  // File order: by first layer, then first step (rules are disjoint, so order is for readers).
  std::stable_sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
    const int la = a.layers.is_all() ? 0 : a.layers.spans().front().first;
    const int lb = b.layers.is_all() ? 0 : b.layers.spans().front().first;
    const int sa = a.steps.is_all() ? 0 : a.steps.spans().front().first;
    const int sb = b.steps.is_all() ? 0 : b.steps.spans().front().first;
    return std::tie(la, sa) < std::tie(lb, sb);
  });
  return sageattn::PrecisionTable(model, default_variant, std::move(rules), source_name);
}

}  // namespace sagegen::calibrate
