// The calibrator's CSV: one row per measured (layer, step, variant) with cos, rel L1 and
// CosSim*(1-L1), mean and worst over the runs, and the variant chosen for the (layer, step).
#pragma once

#include <filesystem>
#include <string>

#include "sagegen/calibrate/choose.h"
#include "sagegen/calibrate/metric_grid.h"

namespace sagegen::calibrate {

// Header: layer,step,variant,samples,cos_mean,cos_worst,rel_l1_mean,rel_l1_worst,
// metric_mean,metric_worst,chosen. Cells with no samples are left out.
std::string metrics_csv(const MetricGrid& grid, const Decisions& decisions);

// Written atomically; std::runtime_error naming the path when it cannot be.
void write_metrics_csv(const std::filesystem::path& path, const MetricGrid& grid,
                       const Decisions& decisions);

}  // namespace sagegen::calibrate
