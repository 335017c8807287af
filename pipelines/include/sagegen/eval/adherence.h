// Scores how well an image or clip follows a prompt, 0/1 per attribute, and tallies accuracy
// over a prompt set.
#pragma once

#include "sagegen/eval/prompt_parser.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace sagegen::eval {

enum class Attribute { kColour, kShape, kColourShape, kSize, kPosition, kRelation, kMotion };
inline constexpr int kAttributeCount = 7;
std::string_view to_string(Attribute attribute);

// Unset where the prompt does not ask for the attribute (no size named, no motion, ...).
struct PromptScore {
  std::array<std::optional<bool>, kAttributeCount> correct{};
  std::optional<bool> at(Attribute a) const { return correct[static_cast<int>(a)]; }
};

// frames: [F, H, W, 3] or [H, W, 3] uint8, CPU. Objects are matched to the prompt's objects by
// colour first, then shape; colour/shape/size/position/relation are read on the first frame,
// motion between the first and the last.
PromptScore score_prompt(const PromptSpec& spec, const at::Tensor& frames);

class AdherenceTally {
 public:
  void add(const PromptScore& score);
  int correct(Attribute a) const { return correct_[static_cast<int>(a)]; }
  int total(Attribute a) const { return total_[static_cast<int>(a)]; }
  // In [0, 1]; unset when no prompt asked for the attribute.
  std::optional<double> accuracy(Attribute a) const;
  // One line per attribute asked for: "colour   0.985  (197/200)".
  std::string table() const;

 private:
  std::array<int, kAttributeCount> correct_{};
  std::array<int, kAttributeCount> total_{};
};

}  // namespace sagegen::eval
