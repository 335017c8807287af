#include "sagegen/io/canvas.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "bitmap_font.h"
#include "sagegen/io/image.h"

namespace sagegen::figures {
namespace {

// Larger canvases are a caller's bug (a grid of thousands of columns), not a figure.
constexpr int kMaxSide = 32768;

// Colour stops at t = 0, 1/4, 1/2, 3/4, 1 (dark purple, blue, teal, green, yellow), interpolated
// linearly in sRGB; each stop is lighter than the one before and the segments between them stay
// monotone in lightness (tests/pipelines/test_canvas.cpp checks it on a fine grid).
constexpr std::array<Rgb, 5> kColourStops = {{
    {68, 1, 84},
    {59, 82, 139},
    {33, 145, 140},
    {94, 201, 98},
    {253, 231, 37},
}};

std::uint8_t lerp_channel(std::uint8_t a, std::uint8_t b, float f) {
  return static_cast<std::uint8_t>(std::lround(static_cast<float>(a) + (static_cast<float>(b) - a) * f));
}

void check_scale(int scale) {
  if (scale < 1) throw std::invalid_argument(fmt::format("text scale {} must be at least 1", scale));
}

}  // namespace

Rgb colormap(float t) {
  if (std::isnan(t)) return kNanGrey;
  const float clamped = std::clamp(t, 0.0f, 1.0f);
  const float position = clamped * static_cast<float>(kColourStops.size() - 1);
  const auto segment = std::min(static_cast<std::size_t>(position), kColourStops.size() - 2);
  const float f = position - static_cast<float>(segment);
  const Rgb& a = kColourStops[segment];
  const Rgb& b = kColourStops[segment + 1];
  return {lerp_channel(a.r, b.r, f), lerp_channel(a.g, b.g, f), lerp_channel(a.b, b.b, f)};
}

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide) {
    throw std::invalid_argument(
        fmt::format("canvas size {}x{}: each side must be in [1, {}]", width, height, kMaxSide));
  }
  pixels_.resize(static_cast<std::size_t>(width) * height * 3);
  fill_rect(0, 0, width, height, background);
}

Rgb Canvas::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) {
    throw std::out_of_range(fmt::format("pixel ({}, {}) outside the {}x{} canvas", x, y, width_, height_));
  }
  const std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void Canvas::set_pixel(int x, int y, Rgb colour) { fill_rect(x, y, 1, 1, colour); }

void Canvas::fill_rect(int x, int y, int w, int h, Rgb colour) {
  // In 64-bit so x + w cannot overflow for callers passing large extents.
  const long long x0 = std::max<long long>(x, 0);
  const long long y0 = std::max<long long>(y, 0);
  const long long x1 = std::min<long long>(static_cast<long long>(x) + w, width_);
  const long long y1 = std::min<long long>(static_cast<long long>(y) + h, height_);
  for (long long row = y0; row < y1; ++row) {
    std::uint8_t* p = &pixels_[(static_cast<std::size_t>(row) * width_ + x0) * 3];
    for (long long col = x0; col < x1; ++col) {
      *p++ = colour.r;
      *p++ = colour.g;
      *p++ = colour.b;
    }
  }
}

void Canvas::draw_rect_outline(int x, int y, int w, int h, Rgb colour, int thickness) {
  if (w <= 0 || h <= 0 || thickness <= 0) return;
  const int t_x = std::min(thickness, w);
  const int t_y = std::min(thickness, h);
  fill_rect(x, y, w, t_y, colour);              // top
  fill_rect(x, y + h - t_y, w, t_y, colour);    // bottom
  fill_rect(x, y, t_x, h, colour);              // left
  fill_rect(x + w - t_x, y, t_x, h, colour);    // right
}

void Canvas::draw_text(int x, int y, std::string_view text, Rgb colour, int scale) {
  check_scale(scale);
  int pen_x = x;
  int pen_y = y;
  for (const char ch : text) {
    if (ch == '\n') {
      pen_x = x;
      pen_y += text_height(scale);
      continue;
    }
    const detail::GlyphRows& rows = detail::glyph_rows(static_cast<unsigned char>(ch));
    for (int gy = 0; gy < detail::kGlyphHeight; ++gy) {
      for (int gx = 0; gx < detail::kGlyphWidth; ++gx) {
        if (rows[gy] & (1u << (detail::kGlyphWidth - 1 - gx))) {
          fill_rect(pen_x + gx * scale, pen_y + gy * scale, scale, scale, colour);
        }
      }
    }
    pen_x += detail::kCellWidth * scale;
  }
}

int Canvas::text_width(std::string_view text, int scale) {
  check_scale(scale);
  std::size_t longest = 0;
  std::size_t current = 0;
  for (const char ch : text) {
    if (ch == '\n') {
      current = 0;
    } else {
      longest = std::max(longest, ++current);
    }
  }
  return static_cast<int>(longest) * detail::kCellWidth * scale;
}

int Canvas::text_height(int scale) {
  check_scale(scale);
  return detail::kCellHeight * scale;
}

void Canvas::blit(int x, int y, const at::Tensor& image) {
  io::check_rgb_uint8(image, 3, "Canvas::blit image");
  const at::Tensor source = image.contiguous();
  const std::int64_t src_h = source.size(0);
  const std::int64_t src_w = source.size(1);
  const std::uint8_t* src = source.const_data_ptr<std::uint8_t>();
  const long long x0 = std::max<long long>(x, 0);
  const long long x1 = std::min<long long>(static_cast<long long>(x) + src_w, width_);
  if (x1 <= x0) return;
  for (std::int64_t row = 0; row < src_h; ++row) {
    const long long dst_y = static_cast<long long>(y) + row;
    if (dst_y < 0 || dst_y >= height_) continue;
    const std::uint8_t* from = src + (row * src_w + (x0 - x)) * 3;
    std::uint8_t* to = &pixels_[(static_cast<std::size_t>(dst_y) * width_ + x0) * 3];
    std::memcpy(to, from, static_cast<std::size_t>(x1 - x0) * 3);
  }
}

at::Tensor Canvas::image() const {
  at::Tensor out = at::empty({height_, width_, 3}, at::TensorOptions().dtype(at::kByte));
  std::memcpy(out.mutable_data_ptr<std::uint8_t>(), pixels_.data(), pixels_.size());
  return out;
}

}  // namespace sagegen::figures
