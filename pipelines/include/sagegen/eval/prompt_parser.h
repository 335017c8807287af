// Reads a prompt written in the shapes world's caption templates back into what it asks for:
// objects (colour, shape, maybe size, motion), their relation or the lone object's position.
#pragma once

#include "sagegen/world/shapes_world.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sagegen::eval {

struct ObjectSpec {
  world::Shape shape = world::Shape::kCircle;
  world::Colour colour = world::Colour::kRed;
  std::optional<world::Size> size;  // unset when the prompt names no size
  world::Motion motion = world::Motion::kNone;
};

struct PromptSpec {
  std::vector<ObjectSpec> objects;         // in the order the prompt names them (1 or 2)
  std::optional<world::Relation> relation; // of object 0 to object 1
  std::optional<world::Position> position; // of a lone object, when the prompt says where
};

// Throws std::invalid_argument naming the prompt and the word or phrase it could not place.
PromptSpec parse_prompt(std::string_view prompt);

// The words of `prompt` that begin no phrase of the world's caption templates (a shape, colour,
// relation or motion the captions never name, or any other word), in order, once each. A
// parse_prompt() failure for a prompt without such words is about word order, not vocabulary.
std::vector<std::string> words_outside_captions(std::string_view prompt);

// Everything a label pins down that its caption can state (sizes of growing/shrinking objects
// and the position of a moving lone object are left unset, as captions never state them).
PromptSpec spec_of(const world::SceneLabel& label);

}  // namespace sagegen::eval
