#include "sagegen/eval/adherence.h"
#include "sagegen/eval/detector.h"
#include "world/geometry.h"

#include <ATen/ATen.h>

#include <cstdio>

namespace sagegen::eval {

namespace {

using namespace sagegen::world;

// Greedy matching, prompt order: each prompt object takes the unclaimed detection that agrees
// on colour (worth 2) and shape (worth 1), larger first on ties; -1 when none is left.
std::vector<int> match_objects(const PromptSpec& spec, const std::vector<DetectedObject>& found) {
  std::vector<int> match(spec.objects.size(), -1);
  std::vector<bool> taken(found.size(), false);
  for (std::size_t i = 0; i < spec.objects.size(); ++i) {
    int best_score = -1;
    for (std::size_t j = 0; j < found.size(); ++j) {  // found is largest first
      if (taken[j]) continue;
      const int score = 2 * (found[j].colour == spec.objects[i].colour) + (found[j].shape == spec.objects[i].shape);
      if (score > best_score) best_score = score, match[i] = static_cast<int>(j);
    }
    if (match[i] >= 0) taken[static_cast<std::size_t>(match[i])] = true;
  }
  return match;
}

// The detection in `found` that continues `object` (same colour and shape, else same colour,
// else the nearest), or nullptr when the frame is empty.
const DetectedObject* follow(const DetectedObject& object, const std::vector<DetectedObject>& found) {
  const DetectedObject* best = nullptr;
  float best_cost = 0;
  for (const DetectedObject& candidate : found) {
    const float dx = candidate.mx - object.mx, dy = candidate.my - object.my;
    const float cost = 10.0f * (candidate.colour != object.colour) + 1.0f * (candidate.shape != object.shape) +
                       dx * dx + dy * dy;
    if (best == nullptr || cost < best_cost) best = &candidate, best_cost = cost;
  }
  return best;
}

void set(PromptScore& score, Attribute a, bool value) { score.correct[static_cast<int>(a)] = value; }

}  // namespace

std::string_view to_string(Attribute attribute) {
  switch (attribute) {
    case Attribute::kColour: return "colour";
    case Attribute::kShape: return "shape";
    case Attribute::kColourShape: return "colour+shape";
    case Attribute::kSize: return "size";
    case Attribute::kPosition: return "position";
    case Attribute::kRelation: return "relation";
    case Attribute::kMotion: return "motion";
  }
  TORCH_CHECK(false, "eval: unknown Attribute value ", static_cast<int>(attribute));
}

PromptScore score_prompt(const PromptSpec& spec, const at::Tensor& frames) {
  TORCH_CHECK(!spec.objects.empty(), "score_prompt: the prompt spec has no objects");
  const at::Tensor clip = frames.dim() == 3 ? frames.unsqueeze(0) : frames;
  TORCH_CHECK(clip.dim() == 4 && clip.size(0) >= 1, "score_prompt: frames must be [F, H, W, 3] or [H, W, 3], got ",
              frames.sizes());
  const std::vector<DetectedObject> found = detect_objects(clip[0]);
  const std::vector<int> match = match_objects(spec, found);

  PromptScore score;
  bool colours = true, shapes = true, both = true, sizes = true, any_size = false;
  for (std::size_t i = 0; i < spec.objects.size(); ++i) {
    const ObjectSpec& want = spec.objects[i];
    const DetectedObject* got = match[i] >= 0 ? &found[static_cast<std::size_t>(match[i])] : nullptr;
    const bool colour_ok = got != nullptr && got->colour == want.colour;
    const bool shape_ok = got != nullptr && got->shape == want.shape;
    colours = colours && colour_ok;
    shapes = shapes && shape_ok;
    both = both && colour_ok && shape_ok;
    if (want.size) {
      any_size = true;
      sizes = sizes && got != nullptr && got->size == *want.size;
    }
  }
  set(score, Attribute::kColour, colours);
  set(score, Attribute::kShape, shapes);
  set(score, Attribute::kColourShape, both);
  if (any_size) set(score, Attribute::kSize, sizes);
  if (spec.position) {
    set(score, Attribute::kPosition,
        match[0] >= 0 && detail::position_of(found[match[0]].cx, found[match[0]].cy) == *spec.position);
  }
  if (spec.relation) {
    const bool both_found = match.size() == 2 && match[0] >= 0 && match[1] >= 0;
    set(score, Attribute::kRelation,
        both_found && detail::relation_of(found[match[0]].cx, found[match[0]].cy, found[match[1]].cx,
                                          found[match[1]].cy) == *spec.relation);
  }

  bool any_motion = false, motions = true;
  const std::vector<DetectedObject> last_found =
      clip.size(0) > 1 ? detect_objects(clip[clip.size(0) - 1]) : std::vector<DetectedObject>{};
  for (std::size_t i = 0; i < spec.objects.size(); ++i) {
    if (spec.objects[i].motion == Motion::kNone) continue;
    any_motion = true;
    const DetectedObject* first = match[i] >= 0 ? &found[static_cast<std::size_t>(match[i])] : nullptr;
    const DetectedObject* last = first != nullptr ? follow(*first, last_found) : nullptr;
    motions = motions && last != nullptr && classify_motion(*first, *last) == spec.objects[i].motion;
  }
  if (any_motion) set(score, Attribute::kMotion, motions);
  return score;
}

void AdherenceTally::add(const PromptScore& score) {
  for (int a = 0; a < kAttributeCount; ++a) {
    if (!score.correct[a]) continue;
    ++total_[a];
    correct_[a] += *score.correct[a] ? 1 : 0;
  }
}

std::optional<double> AdherenceTally::accuracy(Attribute a) const {
  const int i = static_cast<int>(a);
  if (total_[i] == 0) return std::nullopt;
  return static_cast<double>(correct_[i]) / total_[i];
}

std::string AdherenceTally::table() const {
  std::string out;
  for (int a = 0; a < kAttributeCount; ++a) {
    if (total_[a] == 0) continue;
    char line[96];
    std::snprintf(line, sizeof(line), "%-13s %.3f  (%d/%d)\n", std::string(to_string(static_cast<Attribute>(a))).c_str(),
                  static_cast<double>(correct_[a]) / total_[a], correct_[a], total_[a]);
    out += line;
  }
  return out;
}

}  // namespace sagegen::eval
