#include "world/caption_phrases.h"

namespace sagegen::world::detail {

std::vector<std::string_view> size_words(Size size) {
  if (size == Size::kSmall) return {"small", "little"};
  return {"large", "big"};
}

std::vector<std::string_view> motion_phrases(Motion motion) {
  switch (motion) {
    case Motion::kNone: return {};
    case Motion::kLeft: return {"moving left", "moves left", "sliding left"};
    case Motion::kRight: return {"moving right", "moves right", "sliding right"};
    case Motion::kUp: return {"moving up", "moves up", "sliding up"};
    case Motion::kDown: return {"moving down", "moves down", "sliding down"};
    case Motion::kGrowing: return {"growing", "grows"};
    case Motion::kShrinking: return {"shrinking", "shrinks"};
  }
  return {};
}

std::vector<std::string_view> relation_phrases(Relation relation) {
  switch (relation) {
    case Relation::kLeftOf: return {"left of", "to the left of", "on the left of"};
    case Relation::kRightOf: return {"right of", "to the right of", "on the right of"};
    case Relation::kAbove: return {"above", "over"};
    case Relation::kBelow: return {"below", "under"};
  }
  return {};
}

std::vector<std::string_view> position_phrases(Position position) {
  switch (position) {
    case Position::kLeft: return {"on the left", "at the left", "on the left side"};
    case Position::kRight: return {"on the right", "at the right", "on the right side"};
    case Position::kTop: return {"at the top", "near the top"};
    case Position::kBottom: return {"at the bottom", "near the bottom"};
    case Position::kCenter: return {"in the center", "in the middle", "at the center", "in the centre"};
  }
  return {};
}

std::vector<std::string_view> background_phrases(BackgroundKind kind) {
  if (kind == BackgroundKind::kPlain) return {"on a dark background", "on a plain background"};
  return {"on a two-tone background"};
}

const std::vector<std::string_view>& opening_phrases() {
  static const std::vector<std::string_view> kOpenings = {"a picture of", "an image of", "a photo of",
                                                          "an image showing"};
  return kOpenings;
}

}  // namespace sagegen::world::detail
