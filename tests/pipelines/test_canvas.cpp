// Canvas: rectangles, text placement, clipping, blit, the colour map and the font.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "sagegen/io/canvas.h"

namespace sagegen::figures {
namespace {

constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kWhite{255, 255, 255};
constexpr Rgb kRed{255, 0, 0};

struct Box {
  int x0, y0, x1, y1;  // inclusive bounds of the pixels that differ from the background
  bool empty() const { return x1 < x0; }
};

Box changed_box(const Canvas& canvas, Rgb background) {
  Box box{canvas.width(), canvas.height(), -1, -1};
  for (int y = 0; y < canvas.height(); ++y) {
    for (int x = 0; x < canvas.width(); ++x) {
      if (canvas.pixel(x, y) != background) {
        box.x0 = std::min(box.x0, x);
        box.y0 = std::min(box.y0, y);
        box.x1 = std::max(box.x1, x);
        box.y1 = std::max(box.y1, y);
      }
    }
  }
  return box;
}

int count_colour(const Canvas& canvas, Rgb colour) {
  int n = 0;
  for (int y = 0; y < canvas.height(); ++y) {
    for (int x = 0; x < canvas.width(); ++x) n += canvas.pixel(x, y) == colour;
  }
  return n;
}

// CIE L* of an sRGB colour.
double lightness(Rgb c) {
  auto linear = [](std::uint8_t v) {
    const double s = v / 255.0;
    return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
  };
  const double y = 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
  return y > 216.0 / 24389.0 ? 116.0 * std::cbrt(y) - 16.0 : 24389.0 / 27.0 * y;
}

TEST(Canvas, StartsWithTheBackgroundAndImageIsACopy) {
  Canvas canvas(7, 5, {1, 2, 3});
  const at::Tensor image = canvas.image();
  ASSERT_EQ(image.sizes(), (at::IntArrayRef{5, 7, 3}));
  EXPECT_EQ(image.scalar_type(), at::kByte);
  EXPECT_TRUE(image.select(2, 0).eq(1).all().item<bool>());
  EXPECT_TRUE(image.select(2, 2).eq(3).all().item<bool>());
  canvas.fill_rect(0, 0, 7, 5, kWhite);
  EXPECT_EQ(image[0][0][0].item<int>(), 1) << "image() must not alias the canvas";
}

TEST(Canvas, RejectsEmptyOrHugeSizes) {
  EXPECT_THROW(Canvas(0, 5, kBlack), std::invalid_argument);
  EXPECT_THROW(Canvas(5, -1, kBlack), std::invalid_argument);
  EXPECT_THROW(Canvas(40000, 5, kBlack), std::invalid_argument);
}

TEST(Canvas, FillRectIsClippedToTheCanvas) {
  Canvas canvas(10, 8, kBlack);
  canvas.fill_rect(-3, -2, 6, 5, kRed);  // covers x 0..2, y 0..2 after clipping
  EXPECT_EQ(count_colour(canvas, kRed), 9);
  const Box box = changed_box(canvas, kBlack);
  EXPECT_EQ(box.x0, 0);
  EXPECT_EQ(box.y0, 0);
  EXPECT_EQ(box.x1, 2);
  EXPECT_EQ(box.y1, 2);
  canvas.fill_rect(8, 6, 100, 100, kWhite);  // x 8..9, y 6..7
  EXPECT_EQ(count_colour(canvas, kWhite), 4);
  canvas.fill_rect(20, 20, 5, 5, kWhite);  // wholly outside: nothing
  canvas.fill_rect(2, 2, 0, 5, kWhite);    // empty: nothing
  canvas.fill_rect(std::numeric_limits<int>::max() - 1, 0, std::numeric_limits<int>::max(), 1, kWhite);
  EXPECT_EQ(count_colour(canvas, kWhite), 4);
}

TEST(Canvas, OutlineDrawsOnlyTheFrame) {
  Canvas canvas(12, 12, kBlack);
  canvas.draw_rect_outline(2, 3, 6, 5, kWhite, 2);
  // 6x5 minus its 2x1 interior.
  EXPECT_EQ(count_colour(canvas, kWhite), 6 * 5 - 2 * 1);
  EXPECT_EQ(canvas.pixel(2, 3), kWhite);
  EXPECT_EQ(canvas.pixel(7, 7), kWhite);
  EXPECT_EQ(canvas.pixel(4, 5), kBlack);  // interior
  EXPECT_EQ(canvas.pixel(8, 3), kBlack);  // just outside
}

TEST(Canvas, TextIsDrawnWhereAskedAndOnlyThere) {
  Canvas canvas(100, 40, kBlack);
  canvas.draw_text(10, 12, "Hi", kWhite, 2);
  const Box box = changed_box(canvas, kBlack);
  ASSERT_FALSE(box.empty());
  // 'H' has lit pixels in its top-left and bottom rows; 'i' ends in its 5th column.
  EXPECT_EQ(box.x0, 10);
  EXPECT_EQ(box.y0, 12);
  EXPECT_LT(box.x1, 10 + Canvas::text_width("Hi", 2));
  EXPECT_EQ(box.y1, 12 + 7 * 2 - 1);
  // Only the text colour was used, so nothing else was touched.
  EXPECT_EQ(count_colour(canvas, kWhite) + count_colour(canvas, kBlack), 100 * 40);
  // The two glyphs differ, so the drawing depends on the text.
  Canvas other(100, 40, kBlack);
  other.draw_text(10, 12, "iH", kWhite, 2);
  EXPECT_FALSE(canvas.image().equal(other.image()));
}

TEST(Canvas, TextScaleMultipliesEveryGlyphPixel) {
  Canvas small(40, 20, kBlack);
  small.draw_text(0, 0, "A", kWhite, 1);
  Canvas big(40, 20, kBlack);
  big.draw_text(0, 0, "A", kWhite, 2);
  EXPECT_EQ(count_colour(big, kWhite), 4 * count_colour(small, kWhite));
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 5; ++x) {
      EXPECT_EQ(big.pixel(2 * x + 1, 2 * y + 1), small.pixel(x, y)) << x << "," << y;
    }
  }
}

TEST(Canvas, NewlineStartsALineBelowAtTheSameX) {
  Canvas canvas(60, 40, kBlack);
  canvas.draw_text(5, 3, "T\nT", kWhite);
  Canvas single(60, 40, kBlack);
  single.draw_text(5, 3, "T", kWhite);
  single.draw_text(5, 3 + Canvas::text_height(), "T", kWhite);
  EXPECT_TRUE(canvas.image().equal(single.image()));
  EXPECT_EQ(Canvas::text_width("ab\nabcd\nc"), Canvas::text_width("abcd"));
}

TEST(Canvas, TextMetricsFollowTheCell) {
  EXPECT_EQ(Canvas::text_width(""), 0);
  EXPECT_EQ(Canvas::text_width("abc"), 3 * Canvas::text_width("a"));
  EXPECT_EQ(Canvas::text_width("abc", 3), 3 * Canvas::text_width("abc"));
  EXPECT_EQ(Canvas::text_height(2), 2 * Canvas::text_height());
  EXPECT_GE(Canvas::text_height(), 8);
  EXPECT_THROW(Canvas::text_width("a", 0), std::invalid_argument);
  Canvas canvas(10, 10, kBlack);
  EXPECT_THROW(canvas.draw_text(0, 0, "a", kWhite, 0), std::invalid_argument);
}

TEST(Canvas, TextIsClippedAtEveryEdge) {
  Canvas canvas(20, 10, kBlack);
  canvas.draw_text(-3, -4, "WWWWWWWW", kWhite, 1);
  canvas.draw_text(15, 6, "MMM", kWhite, 1);
  EXPECT_GT(count_colour(canvas, kWhite), 0);
  EXPECT_EQ(count_colour(canvas, kWhite) + count_colour(canvas, kBlack), 20 * 10);
}

TEST(Canvas, EveryPrintableCharacterButSpaceHasADistinctGlyph) {
  std::vector<at::Tensor> seen;
  for (char c = '!'; c <= '~'; ++c) {
    Canvas canvas(6, 8, kBlack);
    canvas.draw_text(0, 0, std::string(1, c), kWhite);
    const at::Tensor image = canvas.image();
    EXPECT_GT(count_colour(canvas, kWhite), 0) << "'" << c << "' draws nothing";
    // The spacing column and row stay empty, so neighbouring glyphs never touch.
    for (int y = 0; y < 8; ++y) EXPECT_EQ(canvas.pixel(5, y), kBlack) << c;
    for (int x = 0; x < 6; ++x) EXPECT_EQ(canvas.pixel(x, 7), kBlack) << c;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      EXPECT_FALSE(image.equal(seen[i])) << "'" << c << "' looks like '" << static_cast<char>('!' + i) << "'";
    }
    seen.push_back(image);
  }
  Canvas space(6, 8, kBlack);
  space.draw_text(0, 0, " ", kWhite);
  EXPECT_EQ(count_colour(space, kWhite), 0);
}

TEST(Canvas, UnknownCharactersAreDrawnAsAVisibleBox) {
  for (const std::string& text : {std::string("\t"), std::string("\x01"), std::string("\xC3")}) {
    Canvas canvas(6, 8, kBlack);
    canvas.draw_text(0, 0, text, kWhite);
    // A hollow 5x7 box: the whole border lit, the inside dark.
    for (int x = 0; x < 5; ++x) {
      EXPECT_EQ(canvas.pixel(x, 0), kWhite);
      EXPECT_EQ(canvas.pixel(x, 6), kWhite);
    }
    for (int y = 0; y < 7; ++y) {
      EXPECT_EQ(canvas.pixel(0, y), kWhite);
      EXPECT_EQ(canvas.pixel(4, y), kWhite);
    }
    EXPECT_EQ(canvas.pixel(2, 3), kBlack);
  }
  // And it takes a cell: the character after it is not drawn on top.
  EXPECT_EQ(Canvas::text_width("\xC3\xA9x"), 3 * Canvas::text_width("x"));
}

TEST(Canvas, BlitCopiesPixelsAndClips) {
  at::Tensor image = at::arange(4 * 3 * 3, at::kByte).reshape({4, 3, 3});  // H=4, W=3
  Canvas canvas(5, 5, kBlack);
  canvas.blit(1, 2, image);  // rows 2..5 -> 2..4 visible
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 3; ++x) {
      const Rgb p = canvas.pixel(1 + x, 2 + y);
      EXPECT_EQ(p.r, image[y][x][0].item<int>());
      EXPECT_EQ(p.b, image[y][x][2].item<int>());
    }
  }
  EXPECT_EQ(canvas.pixel(0, 2), kBlack);
  EXPECT_EQ(canvas.pixel(1, 1), kBlack);

  Canvas corner(5, 5, kBlack);
  corner.blit(-2, -3, image);  // source (2, 3) lands on (0, 0)
  EXPECT_EQ(corner.pixel(0, 0).r, image[3][2][0].item<int>());
  EXPECT_EQ(corner.pixel(1, 0), kBlack);
  EXPECT_EQ(corner.pixel(0, 1), kBlack);

  // Non-contiguous input is fine.
  Canvas flipped(3, 4, kBlack);
  flipped.blit(0, 0, image.flip(0));
  EXPECT_EQ(flipped.pixel(0, 0).r, image[3][0][0].item<int>());
}

TEST(Canvas, BlitRejectsWrongShapesAndDtypes) {
  Canvas canvas(5, 5, kBlack);
  EXPECT_THROW(canvas.blit(0, 0, at::zeros({4, 4}, at::kByte)), std::invalid_argument);
  EXPECT_THROW(canvas.blit(0, 0, at::zeros({4, 4, 4}, at::kByte)), std::invalid_argument);
  EXPECT_THROW(canvas.blit(0, 0, at::zeros({4, 4, 3}, at::kFloat)), std::invalid_argument);
}

TEST(Colormap, EndsAreDarkPurpleAndYellowAndNanIsGrey) {
  const Rgb low = colormap(0.0f);
  const Rgb high = colormap(1.0f);
  EXPECT_GT(low.b, low.g);   // purple-blue end
  EXPECT_GT(high.r, 200);    // yellow end
  EXPECT_GT(high.g, 200);
  EXPECT_LT(high.b, 100);
  EXPECT_EQ(colormap(-5.0f), low);
  EXPECT_EQ(colormap(7.0f), high);
  EXPECT_EQ(colormap(std::numeric_limits<float>::quiet_NaN()), kNanGrey);
  EXPECT_GT(lightness(high) - lightness(low), 60.0);
}

TEST(Colormap, LightnessRisesMonotonically) {
  constexpr int kSteps = 64;
  double previous = lightness(colormap(0.0f));
  for (int i = 1; i <= kSteps; ++i) {
    const double current = lightness(colormap(static_cast<float>(i) / kSteps));
    EXPECT_GT(current, previous) << "t = " << static_cast<float>(i) / kSteps;
    previous = current;
  }
  // On a finer grid 8-bit rounding may wobble, but never by a visible step.
  previous = lightness(colormap(0.0f));
  for (int i = 1; i <= 1000; ++i) {
    const double current = lightness(colormap(i / 1000.0f));
    EXPECT_GT(current, previous - 0.5) << "t = " << i / 1000.0f;
    previous = current;
  }
}

}  // namespace
}  // namespace sagegen::figures
