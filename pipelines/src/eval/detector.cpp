#include "sagegen/eval/detector.h"
#include "world/geometry.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace sagegen::eval {

namespace {

using namespace sagegen::world;

// The world paints objects with a brightest channel >= 210 on backgrounds <= 90: a pixel whose
// brightest channel reaches 145 is at least about half covered by an object.
constexpr int kForegroundLevel = 145;
// Pixels this bright are object cores, free of the anti-aliasing mix with the background, so the
// colour is read from them.
constexpr int kCoreLevel = 190;

struct Region {
  std::vector<int> pixels;  // y * width + x
  int x0, x1, y0, y1;
};

std::vector<Region> find_regions(const std::vector<std::uint8_t>& foreground, int width, int height) {
  std::vector<Region> regions;
  std::vector<std::uint8_t> seen(foreground.size(), 0);
  std::vector<int> stack;
  for (int start = 0; start < width * height; ++start) {
    if (!foreground[start] || seen[start]) continue;
    Region region{{}, width, -1, height, -1};
    stack.push_back(start);
    seen[start] = 1;
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      region.pixels.push_back(p);
      const int x = p % width, y = p / width;
      region.x0 = std::min(region.x0, x), region.x1 = std::max(region.x1, x);
      region.y0 = std::min(region.y0, y), region.y1 = std::max(region.y1, y);
      for (int dy = -1; dy <= 1; ++dy) {  // 8-connected: thin diagonal edges stay one region
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const int q = ny * width + nx;
          if (foreground[q] && !seen[q]) {
            seen[q] = 1;
            stack.push_back(q);
          }
        }
      }
    }
    regions.push_back(std::move(region));
  }
  return regions;
}

Colour nearest_colour(const std::array<float, 3>& mean) {
  Colour best = Colour::kRed;
  float best_distance = std::numeric_limits<float>::max();
  for (int c = 0; c < kColourCount; ++c) {
    const auto paint = rgb(static_cast<Colour>(c));
    float d = 0;
    for (int k = 0; k < 3; ++k) d += (mean[k] - paint[k]) * (mean[k] - paint[k]);
    if (d < best_distance) best_distance = d, best = static_cast<Colour>(c);
  }
  return best;
}

// IoU of the region's pixels with the shape's outline (pixels at least half covered, 4x4
// samples as the renderer uses) centred at (cx, cy) pixels with radius r pixels.
float outline_iou(Shape shape, const std::vector<std::uint8_t>& in_region, int width, int height, const Region& region,
                  float cx, float cy, float r) {
  const int x0 = std::max(0, region.x0 - 2), x1 = std::min(width - 1, region.x1 + 2);
  const int y0 = std::max(0, region.y0 - 2), y1 = std::min(height - 1, region.y1 + 2);
  int intersection = 0, outline = 0;
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      int hits = 0;
      for (int j = 0; j < 4; ++j) {
        for (int i = 0; i < 4; ++i) {
          hits += detail::inside_shape(shape, (x + (i + 0.5f) / 4 - cx) / r, (y + (j + 0.5f) / 4 - cy) / r) ? 1 : 0;
        }
      }
      if (hits < 8) continue;
      ++outline;
      intersection += in_region[y * width + x];
    }
  }
  const int uni = outline + static_cast<int>(region.pixels.size()) - intersection;
  return uni > 0 ? static_cast<float>(intersection) / static_cast<float>(uni) : 0.0f;
}

}  // namespace

std::vector<DetectedObject> detect_objects(const at::Tensor& image) {
  TORCH_CHECK(image.dim() == 3 && image.size(2) == 3 && image.scalar_type() == at::kByte,
              "detect_objects: image must be [H, W, 3] uint8, got ", image.sizes(), " ", image.scalar_type());
  const at::Tensor pixels = image.to(at::kCPU).contiguous();
  const int height = static_cast<int>(pixels.size(0)), width = static_cast<int>(pixels.size(1));
  const std::uint8_t* data = pixels.data_ptr<std::uint8_t>();
  std::vector<std::uint8_t> brightest(static_cast<std::size_t>(width) * height);
  std::vector<std::uint8_t> foreground(brightest.size());
  for (std::size_t p = 0; p < brightest.size(); ++p) {
    brightest[p] = std::max({data[p * 3], data[p * 3 + 1], data[p * 3 + 2]});
    foreground[p] = brightest[p] >= kForegroundLevel ? 1 : 0;
  }
  // Regions smaller than a quarter of the smallest object the world draws are noise.
  const float side = static_cast<float>(std::min(width, height));
  const int min_area = std::max(4, static_cast<int>(0.25f * 1.8f * std::pow(detail::kGrowFrom * side, 2.0f)));

  std::vector<DetectedObject> objects;
  std::vector<std::uint8_t> in_region(brightest.size(), 0);
  for (const Region& region : find_regions(foreground, width, height)) {
    if (static_cast<int>(region.pixels.size()) < min_area) continue;
    DetectedObject object;
    object.area = static_cast<int>(region.pixels.size());
    std::array<double, 3> core_sum{}, all_sum{};
    int cores = 0;
    double sx = 0, sy = 0;
    for (int p : region.pixels) {
      for (int k = 0; k < 3; ++k) all_sum[k] += data[p * 3 + k];
      if (brightest[p] >= kCoreLevel) {
        ++cores;
        for (int k = 0; k < 3; ++k) core_sum[k] += data[p * 3 + k];
      }
      sx += p % width + 0.5;
      sy += p / width + 0.5;
    }
    const auto& sum = cores > 0 ? core_sum : all_sum;
    const double n = cores > 0 ? cores : object.area;
    object.colour = nearest_colour({static_cast<float>(sum[0] / n), static_cast<float>(sum[1] / n),
                                    static_cast<float>(sum[2] / n)});
    object.mx = static_cast<float>(sx / object.area / width);
    object.my = static_cast<float>(sy / object.area / height);

    const float cx = (region.x0 + region.x1 + 1) * 0.5f, cy = (region.y0 + region.y1 + 1) * 0.5f;
    const float r = std::max(region.x1 - region.x0 + 1, region.y1 - region.y0 + 1) * 0.5f;
    object.cx = cx / width;
    object.cy = cy / height;
    object.radius = r / side;
    object.size = detail::size_of_radius(object.radius);

    for (int p : region.pixels) in_region[p] = 1;
    object.shape_iou = -1.0f;
    for (int s = 0; s < kShapeCount; ++s) {
      // Half a pixel either way: the thresholded bounding box is within that of the true one.
      for (float dr : {-0.5f, 0.0f, 0.5f}) {
        const float iou = outline_iou(static_cast<Shape>(s), in_region, width, height, region, cx, cy, r + dr);
        if (iou > object.shape_iou) object.shape_iou = iou, object.shape = static_cast<Shape>(s);
      }
    }
    for (int p : region.pixels) in_region[p] = 0;
    objects.push_back(object);
  }
  std::stable_sort(objects.begin(), objects.end(),
                   [](const DetectedObject& a, const DetectedObject& b) { return a.area > b.area; });
  return objects;
}

Motion classify_motion(const DetectedObject& first, const DetectedObject& last) {
  constexpr float kMinShift = 0.1f;        // world objects travel 0.25 of the image
  constexpr float kMinAreaRatio = 1.6f;    // world objects grow or shrink the area 4.5x
  const float dx = last.mx - first.mx, dy = last.my - first.my;
  if (std::max(std::fabs(dx), std::fabs(dy)) >= kMinShift) {
    if (std::fabs(dx) >= std::fabs(dy)) return dx < 0 ? Motion::kLeft : Motion::kRight;
    return dy < 0 ? Motion::kUp : Motion::kDown;
  }
  const float ratio = static_cast<float>(last.area) / static_cast<float>(std::max(first.area, 1));
  if (ratio >= kMinAreaRatio) return Motion::kGrowing;
  if (ratio <= 1.0f / kMinAreaRatio) return Motion::kShrinking;
  return Motion::kNone;
}

}  // namespace sagegen::eval
