#include "sagegen/calibrate/metric_grid.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace sagegen::calibrate {

MetricGrid::MetricGrid(int layers, int steps, std::vector<sageattn::Variant> variants)
    : layers_(layers), steps_(steps), variants_(std::move(variants)) {
  if (layers < 1 || steps < 1 || variants_.empty()) {
    throw std::invalid_argument("MetricGrid: needs layers >= 1, steps >= 1 and a variant, got " +
                                std::to_string(layers) + " layers, " + std::to_string(steps) +
                                " steps, " + std::to_string(variants_.size()) + " variants");
  }
  cells_.resize(static_cast<std::size_t>(layers) * steps * variants_.size());
}

bool MetricGrid::has(sageattn::Variant variant) const {
  return std::find(variants_.begin(), variants_.end(), variant) != variants_.end();
}

std::size_t MetricGrid::index(int layer, int step, sageattn::Variant variant) const {
  const auto found = std::find(variants_.begin(), variants_.end(), variant);
  if (layer < 0 || layer >= layers_ || step < 0 || step >= steps_ || found == variants_.end()) {
    throw std::out_of_range("MetricGrid: (layer " + std::to_string(layer) + ", step " +
                            std::to_string(step) + ", " +
                            std::string(sageattn::to_string(variant)) + ") is outside the grid of " +
                            std::to_string(layers_) + " layers x " + std::to_string(steps_) +
                            " steps");
  }
  const auto v = static_cast<std::size_t>(found - variants_.begin());
  return (static_cast<std::size_t>(layer) * steps_ + step) * variants_.size() + v;
}

VariantStats& MetricGrid::at(int layer, int step, sageattn::Variant variant) {
  return cells_[index(layer, step, variant)];
}

const VariantStats& MetricGrid::at(int layer, int step, sageattn::Variant variant) const {
  return cells_[index(layer, step, variant)];
}

bool MetricGrid::observed(int layer, int step) const {
  for (sageattn::Variant variant : variants_) {
    if (at(layer, step, variant).samples > 0) return true;
  }
  return false;
}

}  // namespace sagegen::calibrate
