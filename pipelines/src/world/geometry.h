// Shape outlines and the sizes/positions the world draws with; shared by the renderer and the
// adherence evaluator (which fits these same outlines to what it finds).
#pragma once

#include "sagegen/world/shapes_world.h"

namespace sagegen::world::detail {

// Every shape fills the box [-1, 1]^2 exactly (its bounding box), so a found object's bounding
// box gives centre and radius whatever its shape. (u, v): offsets over the radius, v down.
bool inside_shape(Shape shape, float u, float v);

// Radii, as fractions of the image side.
inline constexpr float kSmallRadiusMin = 0.085f;
inline constexpr float kSmallRadiusMax = 0.105f;
inline constexpr float kLargeRadiusMin = 0.155f;
inline constexpr float kLargeRadiusMax = 0.175f;
// Halfway between the two size ranges (geometric mean of 0.105 and 0.155 is 0.128).
inline constexpr float kSizeThreshold = 0.13f;
// Growing objects go from kGrowFrom to kGrowTo (area x4.5); shrinking ones the other way.
inline constexpr float kGrowFrom = 0.08f;
inline constexpr float kGrowTo = 0.17f;
// How far a moving object travels over a clip, as a fraction of the image side.
inline constexpr float kTravel = 0.25f;
// A lone object farther than this from the centre (on its larger axis) is left/right/top/bottom.
inline constexpr float kCenterHalfWidth = 0.1f;

Size size_of_radius(float radius);
// The region a lone object at (cx, cy) is in: centre box first, else the dominant axis.
Position position_of(float cx, float cy);
// The relation of a point a to a point b by the dominant axis of b - a.
Relation relation_of(float ax, float ay, float bx, float by);

}  // namespace sagegen::world::detail
