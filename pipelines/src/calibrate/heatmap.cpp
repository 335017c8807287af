#include "sagegen/calibrate/heatmap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "sagegen/io/canvas.h"
#include "sagegen/io/image.h"

namespace sagegen::calibrate {
namespace {

using figures::Canvas;
using figures::Rgb;
using sageattn::Variant;

constexpr Rgb kBackground{255, 255, 255};
constexpr Rgb kInk{20, 20, 20};
constexpr Rgb kUnobserved{60, 60, 60};
constexpr int kPad = 10;

// The variant whose metric colours the cells: sage2-4b (the paper's), else the least precise
// one measured.
Variant colour_variant(const MetricGrid& grid) {
  const auto& order = ladder_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (grid.has(*it)) return *it;
  }
  return grid.variants().front();
}

// Black or white, whichever reads on `background`.
Rgb mark_colour(Rgb background) {
  const double luminance = 0.299 * background.r + 0.587 * background.g + 0.114 * background.b;
  return luminance > 140 ? Rgb{0, 0, 0} : Rgb{255, 255, 255};
}

}  // namespace

HeatmapGeometry heatmap_geometry(const MetricGrid& grid) {
  // Cells big enough for a letter (6x8 font pixels) and a figure near 600 pixels wide.
  const int longest = std::max(grid.layers(), grid.steps());
  HeatmapGeometry g;
  g.cell = std::clamp(600 / std::max(longest, 1), 14, 32);
  const int label_w = Canvas::text_width(std::to_string(grid.layers() - 1)) + 6;
  g.left = kPad + std::max(label_w, Canvas::text_width("layer") + 2);
  // Title (scale 2), subtitle, the "layer" axis title.
  g.top = kPad + Canvas::text_height(2) + Canvas::text_height() + 6 + Canvas::text_height() + 4;
  return g;
}

char variant_mark(Variant variant) {
  switch (variant) {
    case Variant::kFp16: return 'F';
    case Variant::kSage1: return '1';
    case Variant::kSage2Int8: return '8';
    case Variant::kSage2Int4: return '4';
    case Variant::kAuto: return 'A';
  }
  return '?';
}

at::Tensor render_heatmap(const MetricGrid& grid, const Decisions& decisions,
                          const std::string& title) {
  const Variant coloured = colour_variant(grid);
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  int runs = 0;
  for (int layer = 0; layer < grid.layers(); ++layer) {
    for (int step = 0; step < grid.steps(); ++step) {
      const VariantStats& s = grid.at(layer, step, coloured);
      if (s.samples == 0 || !std::isfinite(s.metric_mean)) continue;
      low = std::min(low, s.metric_mean);
      high = std::max(high, s.metric_mean);
      runs = std::max(runs, s.samples);
    }
  }
  const bool any = low <= high;

  const HeatmapGeometry geometry = heatmap_geometry(grid);
  const int cell = geometry.cell, left = geometry.left, top = geometry.top;
  const int glyph_w = Canvas::text_width("0"), line_h = Canvas::text_height();
  const std::string subtitle = fmt::format(
      "colour: {} CosSim*(1-L1) vs fp16, mean over {} run(s); letter: the variant chosen",
      sageattn::to_string(coloured), runs);
  const int grid_w = cell * grid.steps(), grid_h = cell * grid.layers();
  const int bar_x = left + grid_w + 16, bar_w = 14, bar_h = std::max(grid_h, 10 * line_h);
  const std::vector<Variant> marks = ladder_order();
  int legend_w = Canvas::text_width(any ? fmt::format("{:.4f}", high) : "no data");
  for (Variant v : marks) {
    legend_w = std::max(legend_w, Canvas::text_width(fmt::format("{} {} x{}", variant_mark(v),
                                                                 sageattn::to_string(v), 9999)));
  }
  const int width = std::max(bar_x + bar_w + 8 + legend_w + kPad,
                             kPad + std::max(Canvas::text_width(title, 2), Canvas::text_width(subtitle)) + kPad);
  const int height = top + std::max(grid_h, bar_h) + 6 + line_h + 4 + line_h + kPad;
  Canvas canvas(width, height, kBackground);

  canvas.draw_text(kPad, kPad, title, kInk, 2);
  canvas.draw_text(kPad, kPad + Canvas::text_height(2) + 2, subtitle, kInk);
  canvas.draw_text(kPad, top - line_h - 2, "layer", kInk);

  for (int layer = 0; layer < grid.layers(); ++layer) {
    const int y = top + layer * cell;
    const std::string label = std::to_string(layer);
    canvas.draw_text(left - 4 - Canvas::text_width(label), y + (cell - line_h) / 2 + 1, label, kInk);
    for (int step = 0; step < grid.steps(); ++step) {
      const int x = left + step * cell;
      const CellDecision& decision = decisions.at(layer, step);
      const VariantStats& s = grid.at(layer, step, coloured);
      Rgb colour = kUnobserved;
      if (s.samples > 0) {
        const double t = high > low ? (s.metric_mean - low) / (high - low) : 1.0;
        colour = figures::colormap(static_cast<float>(t));  // NaN -> grey
      }
      canvas.fill_rect(x, y, cell, cell, colour);
      if (decision.reason != Reason::kUnobserved) {
        const std::string mark(1, variant_mark(decision.variant));
        canvas.draw_text(x + (cell - glyph_w) / 2 + 1, y + (cell - line_h) / 2 + 1, mark,
                         mark_colour(colour));
      }
    }
  }
  canvas.draw_rect_outline(left - 1, top - 1, grid_w + 2, grid_h + 2, kInk);

  // Step numbers, spaced so they never touch.
  const int label_room = Canvas::text_width(std::to_string(grid.steps() - 1)) + 4;
  const int stride = std::max(1, (label_room + cell - 1) / cell);
  for (int step = 0; step < grid.steps(); step += stride) {
    const std::string label = std::to_string(step);
    canvas.draw_text(left + step * cell + (cell - Canvas::text_width(label)) / 2 + 1,
                     top + grid_h + 4, label, kInk);
  }
  canvas.draw_text(left + grid_w / 2 - Canvas::text_width("step") / 2, top + grid_h + 6 + line_h,
                   "step", kInk);

  // Colour bar: high at the top.
  for (int row = 0; row < bar_h; ++row) {
    const float t = bar_h > 1 ? 1.0f - static_cast<float>(row) / (bar_h - 1) : 1.0f;
    canvas.fill_rect(bar_x, top + row, bar_w, 1, any ? figures::colormap(t) : figures::kNanGrey);
  }
  canvas.draw_rect_outline(bar_x - 1, top - 1, bar_w + 2, bar_h + 2, kInk);
  const int legend_x = bar_x + bar_w + 6;
  canvas.draw_text(legend_x, top, any ? fmt::format("{:.4f}", high) : "no data", kInk);
  if (any) canvas.draw_text(legend_x, top + bar_h - line_h, fmt::format("{:.4f}", low), kInk);

  // Marks legend, with how many (layer, step) pairs each variant got.
  int y = top + 2 * line_h + 4;
  for (Variant v : marks) {
    canvas.draw_text(legend_x, y,
                     fmt::format("{} {} x{}", variant_mark(v), sageattn::to_string(v), decisions.count(v)),
                     kInk);
    y += line_h + 2;
  }
  return canvas.image();
}

void write_heatmap_png(const std::filesystem::path& path, const MetricGrid& grid,
                       const Decisions& decisions, const std::string& title) {
  io::write_png(path, render_heatmap(grid, decisions, title));
}

}  // namespace sagegen::calibrate
