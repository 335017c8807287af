#include "sagegen/calibrate/metrics_csv.h"

#include <fmt/format.h>

#include "sagegen/io/text_file.h"

namespace sagegen::calibrate {

std::string metrics_csv(const MetricGrid& grid, const Decisions& decisions) {
  std::string out =
      "layer,step,variant,samples,cos_mean,cos_worst,rel_l1_mean,rel_l1_worst,metric_mean,"
      "metric_worst,chosen\n";
  for (int layer = 0; layer < grid.layers(); ++layer) {
    for (int step = 0; step < grid.steps(); ++step) {
      const CellDecision& decision = decisions.at(layer, step);
      const std::string chosen = decision.reason == Reason::kUnobserved
                                     ? std::string()
                                     : std::string(sageattn::to_string(decision.variant));
      for (sageattn::Variant variant : grid.variants()) {
        const VariantStats& s = grid.at(layer, step, variant);
        if (s.samples == 0) continue;
        out += fmt::format("{},{},{},{},{:.8f},{:.8f},{:.8f},{:.8f},{:.8f},{:.8f},{}\n", layer,
                           step, sageattn::to_string(variant), s.samples, s.cos_mean, s.cos_worst,
                           s.rel_l1_mean, s.rel_l1_worst, s.metric_mean, s.metric_worst, chosen);
      }
    }
  }
  return out;
}

void write_metrics_csv(const std::filesystem::path& path, const MetricGrid& grid,
                       const Decisions& decisions) {
  io::write_text_file(path, metrics_csv(grid, decisions));
}

}  // namespace sagegen::calibrate
