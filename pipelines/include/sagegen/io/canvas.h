// A small RGB raster for figures (comparison grids, heat maps): filled and outlined rectangles,
// text in a built-in 5x7 bitmap font scaled by an integer factor, and pasted images. Everything
// is clipped to the canvas, so callers can draw without bounds arithmetic. Pixels live on the CPU;
// image() hands back an [H, W, 3] uint8 tensor ready for io::write_png.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace sagegen::figures {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb& a, const Rgb& b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
  friend bool operator!=(const Rgb& a, const Rgb& b) { return !(a == b); }
};

// Perceptually ordered colour map for t in [0, 1] (clamped): dark purple -> blue -> teal ->
// green -> yellow, viridis-like, lightness rising monotonically with t. NaN -> mid grey.
Rgb colormap(float t);

// The grey colormap() returns for NaN.
inline constexpr Rgb kNanGrey{128, 128, 128};

class Canvas {
 public:
  // Throws std::invalid_argument unless 0 < width, height <= 32768.
  Canvas(int width, int height, Rgb background);

  int width() const { return width_; }
  int height() const { return height_; }

  Rgb pixel(int x, int y) const;  // throws std::out_of_range outside the canvas
  void set_pixel(int x, int y, Rgb colour);  // ignored outside the canvas

  void fill_rect(int x, int y, int w, int h, Rgb colour);  // clipped to the canvas
  // A frame `thickness` pixels wide drawn inside the rectangle (x, y, w, h).
  void draw_rect_outline(int x, int y, int w, int h, Rgb colour, int thickness = 1);

  // Top-left anchor; '\n' starts a new line text_height(scale) below. Printable ASCII has glyphs;
  // any other byte (tab, UTF-8, control) is drawn as a hollow box so it shows instead of
  // vanishing. Each glyph cell is 6x8 font pixels (5x7 glyph + 1 pixel spacing right and below),
  // each font pixel a scale x scale square. scale < 1 throws std::invalid_argument.
  void draw_text(int x, int y, std::string_view text, Rgb colour, int scale = 1);
  // Width of the longest line, in canvas pixels (including the last glyph's spacing column).
  static int text_width(std::string_view text, int scale = 1);
  static int text_height(int scale = 1);  // one line, including the spacing row

  // image: [H, W, 3] uint8 CPU tensor, pasted with its top-left at (x, y), clipped.
  void blit(int x, int y, const at::Tensor& image);
  at::Tensor image() const;  // [height, width, 3] uint8 CPU tensor (a copy)

 private:
  int width_;
  int height_;
  std::vector<std::uint8_t> pixels_;  // row-major RGB
};

}  // namespace sagegen::figures
