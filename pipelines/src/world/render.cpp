// CPU rasteriser: background tones, then each object with 4x4 supersampled coverage so edges
// are anti-aliased the same way at every size.
#include "sagegen/world/shapes_world.h"
#include "world/geometry.h"
#include "world/options_check.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace sagegen::world {

ObjectPlacement placement_at(const ObjectLabel& object, int frame, int frames) {
  const float t = frames > 1 ? static_cast<float>(frame) / static_cast<float>(frames - 1) : 0.0f;
  ObjectPlacement p{object.cx, object.cy, object.radius};
  const float travel = detail::kTravel * t;
  const float growth = (detail::kGrowTo - detail::kGrowFrom) * t;
  switch (object.motion) {
    case Motion::kNone: break;
    case Motion::kLeft: p.cx -= travel; break;
    case Motion::kRight: p.cx += travel; break;
    case Motion::kUp: p.cy -= travel; break;
    case Motion::kDown: p.cy += travel; break;
    case Motion::kGrowing: p.radius += growth; break;
    case Motion::kShrinking: p.radius -= growth; break;
  }
  return p;
}

namespace {

constexpr int kSubsamples = 4;  // per axis: 17 coverage levels, enough for smooth 64 px edges

void paint_background(const Background& bg, int size, std::uint8_t* frame) {
  const int split_px = static_cast<int>(std::lround(bg.split * static_cast<float>(size)));
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const bool first = bg.kind == BackgroundKind::kPlain ||
                         (bg.vertical_split ? x < split_px : y < split_px);
      const auto& tone = first ? bg.first : bg.second;
      std::copy(tone.begin(), tone.end(), frame + (y * size + x) * 3);
    }
  }
}

void paint_object(Shape shape, const std::array<std::uint8_t, 3>& colour, const ObjectPlacement& p,
                  int size, std::uint8_t* frame) {
  const float s = static_cast<float>(size);
  const int x0 = std::max(0, static_cast<int>(std::floor((p.cx - p.radius) * s)) - 1);
  const int x1 = std::min(size - 1, static_cast<int>(std::ceil((p.cx + p.radius) * s)) + 1);
  const int y0 = std::max(0, static_cast<int>(std::floor((p.cy - p.radius) * s)) - 1);
  const int y1 = std::min(size - 1, static_cast<int>(std::ceil((p.cy + p.radius) * s)) + 1);
  const float inv_r = 1.0f / (p.radius * s);  // pixel offsets -> unit box
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      int hits = 0;
      for (int j = 0; j < kSubsamples; ++j) {
        const float v = (static_cast<float>(y) + (j + 0.5f) / kSubsamples - p.cy * s) * inv_r;
        for (int i = 0; i < kSubsamples; ++i) {
          const float u = (static_cast<float>(x) + (i + 0.5f) / kSubsamples - p.cx * s) * inv_r;
          hits += detail::inside_shape(shape, u, v) ? 1 : 0;
        }
      }
      if (hits == 0) continue;
      const float coverage = static_cast<float>(hits) / (kSubsamples * kSubsamples);
      std::uint8_t* px = frame + (y * size + x) * 3;
      for (int c = 0; c < 3; ++c) {
        const float mixed = px[c] * (1.0f - coverage) + colour[c] * coverage;
        px[c] = static_cast<std::uint8_t>(std::lround(mixed));
      }
    }
  }
}

}  // namespace

at::Tensor render(const SceneLabel& label, const WorldOptions& options) {
  detail::check_options(options);
  TORCH_CHECK(!label.objects.empty() && label.objects.size() <= 2,
              "world::render: a scene has 1 or 2 objects, got ", label.objects.size());
  const int size = options.size;
  at::Tensor pixels = at::empty({options.frames, size, size, 3}, at::kByte);
  std::uint8_t* data = pixels.data_ptr<std::uint8_t>();
  for (int f = 0; f < options.frames; ++f) {
    std::uint8_t* frame = data + static_cast<std::int64_t>(f) * size * size * 3;
    paint_background(label.background, size, frame);
    for (const ObjectLabel& object : label.objects) {
      paint_object(object.shape, rgb(object.colour), placement_at(object, f, options.frames), size, frame);
    }
  }
  return pixels;
}

}  // namespace sagegen::world
