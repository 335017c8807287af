#include "world/geometry.h"

#include <cmath>

namespace sagegen::world::detail {

bool inside_shape(Shape shape, float u, float v) {
  switch (shape) {
    case Shape::kCircle:
      return u * u + v * v <= 1.0f;
    case Shape::kSquare:
      return std::fabs(u) <= 1.0f && std::fabs(v) <= 1.0f;
    case Shape::kTriangle:  // apex at the top centre, base along the bottom edge
      return v <= 1.0f && std::fabs(u) <= (v + 1.0f) * 0.5f;
    case Shape::kRing: {
      // Inner radius 0.55: the band stays about 3 pixels wide on a small 64x64 object.
      const float r2 = u * u + v * v;
      return r2 <= 1.0f && r2 >= 0.55f * 0.55f;
    }
    case Shape::kCross: {
      constexpr float kArm = 0.33f;  // half the width of each bar
      const float au = std::fabs(u), av = std::fabs(v);
      return (au <= kArm && av <= 1.0f) || (av <= kArm && au <= 1.0f);
    }
  }
  return false;
}

Size size_of_radius(float radius) { return radius < kSizeThreshold ? Size::kSmall : Size::kLarge; }

Position position_of(float cx, float cy) {
  const float dx = cx - 0.5f, dy = cy - 0.5f;
  if (std::fabs(dx) < kCenterHalfWidth && std::fabs(dy) < kCenterHalfWidth) return Position::kCenter;
  if (std::fabs(dx) >= std::fabs(dy)) return dx < 0 ? Position::kLeft : Position::kRight;
  return dy < 0 ? Position::kTop : Position::kBottom;
}

Relation relation_of(float ax, float ay, float bx, float by) {
  const float dx = bx - ax, dy = by - ay;
  if (std::fabs(dx) >= std::fabs(dy)) return dx > 0 ? Relation::kLeftOf : Relation::kRightOf;
  return dy > 0 ? Relation::kAbove : Relation::kBelow;
}

}  // namespace sagegen::world::detail
