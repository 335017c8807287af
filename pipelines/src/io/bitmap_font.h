// The canvas's built-in font: 5x7 glyphs for printable ASCII (0x20-0x7E) in a 6x8 cell.
#pragma once

#include <array>
#include <cstdint>

namespace sagegen::figures::detail {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
inline constexpr int kCellWidth = kGlyphWidth + 1;    // one spacing column on the right
inline constexpr int kCellHeight = kGlyphHeight + 1;  // one spacing row below

// One bit per pixel, top row first; bit (kGlyphWidth - 1 - x) lit = column x drawn.
using GlyphRows = std::array<std::uint8_t, kGlyphHeight>;

// The glyph of a printable ASCII byte; any other byte gets a hollow box.
const GlyphRows& glyph_rows(unsigned char c);

}  // namespace sagegen::figures::detail
