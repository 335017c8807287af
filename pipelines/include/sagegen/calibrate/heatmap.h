// The calibration heat-map: layers (rows) x steps (columns), each cell coloured by the 4-bit
// variant's CosSim*(1-L1) against fp16 (mean over the runs; the paper's figure of how precision
// needs vary across layers and steps) and marked with a letter for the variant chosen there.
// Axis labels, a colour bar with its range and a legend of the marks sit around the grid.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>

#include "sagegen/calibrate/choose.h"
#include "sagegen/calibrate/metric_grid.h"

namespace sagegen::calibrate {

// The letter marking a variant in the heat-map: fp16 "F", sage1 "1", sage2-8b "8", sage2-4b "4".
char variant_mark(sageattn::Variant variant);

// Where the cells are: cell (layer, step) is the square of side `cell` pixels with its top-left
// at (left + step * cell, top + layer * cell).
struct HeatmapGeometry {
  int left = 0;
  int top = 0;
  int cell = 0;
};
HeatmapGeometry heatmap_geometry(const MetricGrid& grid);

// [H, W, 3] uint8 CPU image. Colour: sage2-4b's metric_mean, or the least precise variant
// measured when sage2-4b was not (the subtitle says which). Cells never called stay dark and
// unmarked.
at::Tensor render_heatmap(const MetricGrid& grid, const Decisions& decisions,
                          const std::string& title);

void write_heatmap_png(const std::filesystem::path& path, const MetricGrid& grid,
                       const Decisions& decisions, const std::string& title);

}  // namespace sagegen::calibrate
