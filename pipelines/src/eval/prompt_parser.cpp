// A longest-match reader over the caption templates' phrases (world/caption_phrases.h), so any
// caption the world writes parses, and anything else fails with the word that did not fit.
#include "sagegen/eval/prompt_parser.h"
#include "world/caption_phrases.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sagegen::eval {

namespace {

using namespace sagegen::world;

enum class PhraseKind { kArticle, kOpening, kBackground, kSize, kColour, kShape, kMotion, kRelation, kPosition };

struct Phrase {
  std::vector<std::string> words;
  PhraseKind kind;
  int value;  // the enum value of the size/colour/shape/... it names
};

std::vector<std::string> split_words(std::string_view text) {
  std::string cleaned(text);
  for (char& c : cleaned) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == ',' || c == '.') c = ' ';
  }
  std::vector<std::string> words;
  std::istringstream stream(cleaned);
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

void add_phrases(std::vector<Phrase>& table, const std::vector<std::string_view>& texts, PhraseKind kind, int value) {
  for (std::string_view text : texts) table.push_back({split_words(text), kind, value});
}

const std::vector<Phrase>& phrase_table() {
  static const std::vector<Phrase> kTable = [] {
    std::vector<Phrase> table;
    add_phrases(table, {"a", "an"}, PhraseKind::kArticle, 0);
    add_phrases(table, detail::opening_phrases(), PhraseKind::kOpening, 0);
    for (int k = 0; k < 2; ++k) {
      add_phrases(table, detail::background_phrases(static_cast<BackgroundKind>(k)), PhraseKind::kBackground, k);
      add_phrases(table, detail::size_words(static_cast<Size>(k)), PhraseKind::kSize, k);
    }
    for (int c = 0; c < kColourCount; ++c) {
      add_phrases(table, {to_string(static_cast<Colour>(c))}, PhraseKind::kColour, c);
    }
    for (int s = 0; s < kShapeCount; ++s) add_phrases(table, {to_string(static_cast<Shape>(s))}, PhraseKind::kShape, s);
    for (int m = 1; m <= static_cast<int>(Motion::kShrinking); ++m) {
      add_phrases(table, detail::motion_phrases(static_cast<Motion>(m)), PhraseKind::kMotion, m);
    }
    for (int r = 0; r < 4; ++r) add_phrases(table, detail::relation_phrases(static_cast<Relation>(r)), PhraseKind::kRelation, r);
    for (int p = 0; p < 5; ++p) add_phrases(table, detail::position_phrases(static_cast<Position>(p)), PhraseKind::kPosition, p);
    // Longest first, so "on the left of" (a relation) wins over "on the left" (a position).
    std::stable_sort(table.begin(), table.end(),
                     [](const Phrase& a, const Phrase& b) { return a.words.size() > b.words.size(); });
    return table;
  }();
  return kTable;
}

const Phrase* match_at(const std::vector<std::string>& words, std::size_t i) {
  for (const Phrase& phrase : phrase_table()) {
    if (i + phrase.words.size() > words.size()) continue;
    if (std::equal(phrase.words.begin(), phrase.words.end(), words.begin() + static_cast<std::ptrdiff_t>(i))) {
      return &phrase;
    }
  }
  return nullptr;
}

[[noreturn]] void fail(std::string_view prompt, const std::string& why) {
  throw std::invalid_argument("prompt parser: " + why + " in prompt '" + std::string(prompt) + "'");
}

}  // namespace

PromptSpec parse_prompt(std::string_view prompt) {
  const std::vector<std::string> words = split_words(prompt);
  PromptSpec spec;
  std::optional<Size> pending_size;
  std::optional<Colour> pending_colour;
  for (std::size_t i = 0; i < words.size();) {
    const Phrase* phrase = match_at(words, i);
    if (phrase == nullptr) fail(prompt, "word '" + words[i] + "' fits no caption template");
    const std::string text = words[i];
    i += phrase->words.size();
    switch (phrase->kind) {
      case PhraseKind::kArticle:
      case PhraseKind::kBackground:
        break;
      case PhraseKind::kOpening:
        if (!spec.objects.empty()) fail(prompt, "opening phrase after an object");
        break;
      case PhraseKind::kSize:
        if (pending_size || pending_colour) fail(prompt, "size word '" + text + "' out of place");
        pending_size = static_cast<Size>(phrase->value);
        break;
      case PhraseKind::kColour:
        if (pending_colour) fail(prompt, "two colours for one object at '" + text + "'");
        pending_colour = static_cast<Colour>(phrase->value);
        break;
      case PhraseKind::kShape:
        if (!pending_colour) fail(prompt, "shape '" + text + "' without a colour");
        if (spec.objects.size() == 2) fail(prompt, "more than two objects");
        if (spec.objects.size() == 1 && !spec.relation) fail(prompt, "second object without a relation");
        // The shape takes the pending colour and size and clears them.
        spec.objects.push_back({static_cast<Shape>(phrase->value),
                                *std::exchange(pending_colour, std::nullopt),
                                std::exchange(pending_size, std::nullopt), Motion::kNone});
        break;
      case PhraseKind::kMotion:
        if (spec.objects.empty() || pending_colour || pending_size) fail(prompt, "motion '" + text + "' before its object");
        spec.objects.back().motion = static_cast<Motion>(phrase->value);
        break;
      case PhraseKind::kRelation:
        if (spec.objects.size() != 1 || spec.relation || spec.position) fail(prompt, "relation out of place at '" + text + "'");
        spec.relation = static_cast<Relation>(phrase->value);
        break;
      case PhraseKind::kPosition:
        if (spec.objects.size() != 1 || spec.relation || spec.position) fail(prompt, "position out of place at '" + text + "'");
        spec.position = static_cast<Position>(phrase->value);
        break;
    }
  }
  if (pending_colour || pending_size) fail(prompt, "colour or size without a shape at the end");
  if (spec.objects.empty()) fail(prompt, "no object (a colour and a shape)");
  if (spec.relation && spec.objects.size() != 2) fail(prompt, "relation without a second object");
  return spec;
}

PromptSpec spec_of(const world::SceneLabel& label) {
  PromptSpec spec;
  for (const ObjectLabel& object : label.objects) {
    ObjectSpec o{object.shape, object.colour, object.size, object.motion};
    if (object.motion == Motion::kGrowing || object.motion == Motion::kShrinking) o.size.reset();
    spec.objects.push_back(o);
  }
  spec.relation = label.relation;
  if (label.objects.size() == 1 && label.objects[0].motion == Motion::kNone) spec.position = label.position;
  return spec;
}

std::vector<std::string> words_outside_captions(std::string_view prompt) {
  const std::vector<std::string> words = split_words(prompt);
  std::vector<std::string> outside;
  for (std::size_t i = 0; i < words.size();) {
    const Phrase* phrase = match_at(words, i);
    if (phrase != nullptr) {
      i += phrase->words.size();
      continue;
    }
    if (std::find(outside.begin(), outside.end(), words[i]) == outside.end()) {
      outside.push_back(words[i]);
    }
    ++i;
  }
  return outside;
}

}  // namespace sagegen::eval
