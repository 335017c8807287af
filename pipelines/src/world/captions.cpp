// Caption writer: one template per scene kind, with the paraphrase (articles, size words,
// phrase variants, opening, background phrase) picked by seed. Object 0 is always named first.
#include "sagegen/world/shapes_world.h"
#include "world/caption_phrases.h"
#include "world/rng.h"

#include <c10/util/Exception.h>

namespace sagegen::world {

namespace {

using detail::Rng;

// A salt so the caption's draws are not the scene's draws from the same seed.
constexpr std::uint64_t kCaptionSalt = 0xCA97'10A5'0000'0001ULL;

std::string_view pick(const std::vector<std::string_view>& options, Rng& rng) {
  return options[static_cast<std::size_t>(rng.below(static_cast<int>(options.size())))];
}

bool starts_with_vowel(std::string_view word) {
  return !word.empty() && std::string_view("aeiou").find(word.front()) != std::string_view::npos;
}

std::string object_phrase(const ObjectLabel& object, Rng& rng) {
  std::vector<std::string_view> words;
  // A growing or shrinking object has no one size, so its caption names none.
  const bool size_is_fixed = object.motion != Motion::kGrowing && object.motion != Motion::kShrinking;
  if (size_is_fixed && rng.chance(0.7f)) words.push_back(pick(detail::size_words(object.size), rng));
  words.push_back(to_string(object.colour));
  words.push_back(to_string(object.shape));
  if (object.motion != Motion::kNone) words.push_back(pick(detail::motion_phrases(object.motion), rng));
  std::string phrase;
  if (rng.chance(0.85f)) phrase = starts_with_vowel(words.front()) ? "an " : "a ";
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) phrase += ' ';
    phrase += words[i];
  }
  return phrase;
}

}  // namespace

std::string make_caption(const SceneLabel& label, std::uint64_t seed) {
  TORCH_CHECK(label.objects.size() == 1 || label.objects.size() == 2,
              "world::make_caption: a scene has 1 or 2 objects, got ", label.objects.size());
  TORCH_CHECK(label.objects.size() == 1 || label.relation.has_value(),
              "world::make_caption: a two-object scene needs a relation");
  Rng rng(seed ^ kCaptionSalt);
  std::string caption;
  if (rng.chance(0.2f)) {
    caption += pick(detail::opening_phrases(), rng);
    caption += ' ';
  }
  caption += object_phrase(label.objects[0], rng);
  if (label.objects.size() == 2) {
    caption += ' ';
    caption += pick(detail::relation_phrases(*label.relation), rng);
    caption += ' ';
    caption += object_phrase(label.objects[1], rng);
  } else if (label.objects[0].motion == Motion::kNone) {
    TORCH_CHECK(label.position.has_value(), "world::make_caption: a lone still object needs a position");
    caption += ' ';
    caption += pick(detail::position_phrases(*label.position), rng);
  }
  if (rng.chance(0.25f)) {
    caption += ' ';
    caption += pick(detail::background_phrases(label.background.kind), rng);
  }
  return caption;
}

}  // namespace sagegen::world
