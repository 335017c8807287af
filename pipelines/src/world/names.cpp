// Caption words of every enum, the paint colours, and relation inversion.
#include "sagegen/world/shapes_world.h"

#include <c10/util/Exception.h>

namespace sagegen::world {

std::string_view to_string(Shape shape) {
  switch (shape) {
    case Shape::kCircle: return "circle";
    case Shape::kSquare: return "square";
    case Shape::kTriangle: return "triangle";
    case Shape::kRing: return "ring";
    case Shape::kCross: return "cross";
  }
  TORCH_CHECK(false, "world: unknown Shape value ", static_cast<int>(shape));
}

std::string_view to_string(Colour colour) {
  switch (colour) {
    case Colour::kRed: return "red";
    case Colour::kOrange: return "orange";
    case Colour::kYellow: return "yellow";
    case Colour::kGreen: return "green";
    case Colour::kBlue: return "blue";
    case Colour::kPurple: return "purple";
    case Colour::kPink: return "pink";
    case Colour::kWhite: return "white";
  }
  TORCH_CHECK(false, "world: unknown Colour value ", static_cast<int>(colour));
}

std::string_view to_string(Size size) { return size == Size::kSmall ? "small" : "large"; }

std::string_view to_string(Relation relation) {
  switch (relation) {
    case Relation::kLeftOf: return "left of";
    case Relation::kRightOf: return "right of";
    case Relation::kAbove: return "above";
    case Relation::kBelow: return "below";
  }
  TORCH_CHECK(false, "world: unknown Relation value ", static_cast<int>(relation));
}

std::string_view to_string(Position position) {
  switch (position) {
    case Position::kLeft: return "left";
    case Position::kRight: return "right";
    case Position::kTop: return "top";
    case Position::kBottom: return "bottom";
    case Position::kCenter: return "center";
  }
  TORCH_CHECK(false, "world: unknown Position value ", static_cast<int>(position));
}

std::string_view to_string(Motion motion) {
  switch (motion) {
    case Motion::kNone: return "none";
    case Motion::kLeft: return "moving left";
    case Motion::kRight: return "moving right";
    case Motion::kUp: return "moving up";
    case Motion::kDown: return "moving down";
    case Motion::kGrowing: return "growing";
    case Motion::kShrinking: return "shrinking";
  }
  TORCH_CHECK(false, "world: unknown Motion value ", static_cast<int>(motion));
}

std::string_view to_string(PromptSet set) { return set == PromptSet::kSeen ? "seen" : "held-out"; }

std::array<std::uint8_t, 3> rgb(Colour colour) {
  // Nearest pair (orange, yellow) is 86 apart; every max channel is >= 210 while backgrounds
  // stay <= 90, so a pixel's brightest channel separates objects from background.
  switch (colour) {
    case Colour::kRed: return {230, 40, 40};
    case Colour::kOrange: return {250, 150, 20};
    case Colour::kYellow: return {240, 230, 50};
    case Colour::kGreen: return {40, 210, 70};
    case Colour::kBlue: return {50, 100, 240};
    case Colour::kPurple: return {160, 60, 220};
    case Colour::kPink: return {250, 140, 200};
    case Colour::kWhite: return {245, 245, 245};
  }
  TORCH_CHECK(false, "world: unknown Colour value ", static_cast<int>(colour));
}

Relation inverse(Relation relation) {
  switch (relation) {
    case Relation::kLeftOf: return Relation::kRightOf;
    case Relation::kRightOf: return Relation::kLeftOf;
    case Relation::kAbove: return Relation::kBelow;
    case Relation::kBelow: return Relation::kAbove;
  }
  TORCH_CHECK(false, "world: unknown Relation value ", static_cast<int>(relation));
}

}  // namespace sagegen::world
