// The caption templates' phrases, shared by the caption writer and the prompt parser so the two
// can never disagree. Every word is in assets/vocab.txt (a test checks).
#pragma once

#include "sagegen/world/shapes_world.h"

#include <string_view>
#include <vector>

namespace sagegen::world::detail {

std::vector<std::string_view> size_words(Size size);
std::vector<std::string_view> motion_phrases(Motion motion);  // empty for kNone
std::vector<std::string_view> relation_phrases(Relation relation);
std::vector<std::string_view> position_phrases(Position position);
std::vector<std::string_view> background_phrases(BackgroundKind kind);
// Openings such as "a picture of"; the object phrase follows.
const std::vector<std::string_view>& opening_phrases();

}  // namespace sagegen::world::detail
