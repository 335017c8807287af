// Draws scene labels: what objects, where, how they move, on which background. Draws are
// rejected until the scene is valid (in frame at every frame, the relation unambiguous, not a
// held-out combination unless asked), so the label always matches what is rendered.
#include "sagegen/world/shapes_world.h"
#include "world/geometry.h"
#include "world/options_check.h"
#include "world/rng.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace sagegen::world {

namespace detail {

void check_options(const WorldOptions& options) {
  TORCH_CHECK(options.size >= 32 && options.size <= 1024, "world: options.size must be in [32, 1024], got ",
              options.size);
  TORCH_CHECK(options.frames >= 1 && options.frames <= 64, "world: options.frames must be in [1, 64], got ",
              options.frames);
  TORCH_CHECK(options.max_objects == 1 || options.max_objects == 2,
              "world: options.max_objects must be 1 or 2, got ", options.max_objects);
}

}  // namespace detail

namespace {

using detail::Rng;

constexpr float kEdgeMargin = 0.02f;   // objects keep this far from the image border
constexpr float kObjectGap = 0.04f;    // bounding boxes keep this far apart along the relation axis
constexpr float kOffAxisRatio = 0.6f;  // off-axis offset <= this x on-axis: the relation is clear
constexpr int kMaxAttempts = 1000;

std::array<std::uint8_t, 3> dark_tone(Rng& rng, float gray) {
  std::array<std::uint8_t, 3> tone{};
  for (auto& channel : tone) {
    channel = static_cast<std::uint8_t>(std::lround(std::clamp(gray + rng.uniform(-8.0f, 8.0f), 10.0f, 90.0f)));
  }
  return tone;
}

Background draw_background(const WorldOptions& options, Rng& rng) {
  Background bg;
  const float gray = rng.uniform(20.0f, 70.0f);
  bg.first = dark_tone(rng, gray);
  bg.second = bg.first;
  if (options.two_tone_backgrounds && rng.chance(0.5f)) {
    bg.kind = BackgroundKind::kTwoTone;
    // The second tone differs by at least 15 gray levels so the split is visible.
    const float other = gray < 45.0f ? gray + rng.uniform(15.0f, 30.0f) : gray - rng.uniform(15.0f, 30.0f);
    bg.second = dark_tone(rng, other);
    bg.vertical_split = rng.chance(0.5f);
    bg.split = rng.uniform(0.3f, 0.7f);
  }
  return bg;
}

ObjectLabel draw_object(Rng& rng, Motion motion) {
  ObjectLabel object;
  object.shape = static_cast<Shape>(rng.below(kShapeCount));
  object.colour = static_cast<Colour>(rng.below(kColourCount));
  object.motion = motion;
  if (motion == Motion::kGrowing) {
    object.radius = detail::kGrowFrom;
  } else if (motion == Motion::kShrinking) {
    object.radius = detail::kGrowTo;
  } else if (rng.chance(0.5f)) {
    object.radius = rng.uniform(detail::kSmallRadiusMin, detail::kSmallRadiusMax);
  } else {
    object.radius = rng.uniform(detail::kLargeRadiusMin, detail::kLargeRadiusMax);
  }
  object.size = detail::size_of_radius(object.radius);
  return object;
}

bool in_frame(const ObjectPlacement& p) {
  return p.cx - p.radius >= kEdgeMargin && p.cx + p.radius <= 1.0f - kEdgeMargin &&
         p.cy - p.radius >= kEdgeMargin && p.cy + p.radius <= 1.0f - kEdgeMargin;
}

bool relation_is_clear(const ObjectPlacement& a, const ObjectPlacement& b, Relation relation) {
  if (detail::relation_of(a.cx, a.cy, b.cx, b.cy) != relation) return false;
  const bool horizontal = relation == Relation::kLeftOf || relation == Relation::kRightOf;
  const float on_axis = std::fabs(horizontal ? b.cx - a.cx : b.cy - a.cy);
  const float off_axis = std::fabs(horizontal ? b.cy - a.cy : b.cx - a.cx);
  return on_axis >= a.radius + b.radius + kObjectGap && off_axis <= kOffAxisRatio * on_axis;
}

// Motions are linear in time, so checking the first and last frames covers every frame.
bool is_valid(const SceneLabel& label, int frames) {
  for (int frame : {0, frames - 1}) {
    const ObjectPlacement a = placement_at(label.objects[0], frame, frames);
    if (!in_frame(a)) return false;
    if (label.objects.size() == 2) {
      const ObjectPlacement b = placement_at(label.objects[1], frame, frames);
      if (!in_frame(b) || !relation_is_clear(a, b, *label.relation)) return false;
    }
  }
  return true;
}

// A lone still object is placed inside the band of its named position.
void place_lone_object(ObjectLabel& object, Position position, Rng& rng) {
  const float near = rng.uniform(0.2f, 0.3f);
  const float across = rng.uniform(0.42f, 0.58f);
  switch (position) {
    case Position::kLeft: object.cx = near; object.cy = across; break;
    case Position::kRight: object.cx = 1.0f - near; object.cy = across; break;
    case Position::kTop: object.cx = across; object.cy = near; break;
    case Position::kBottom: object.cx = across; object.cy = 1.0f - near; break;
    case Position::kCenter:
      object.cx = rng.uniform(0.45f, 0.55f);
      object.cy = rng.uniform(0.45f, 0.55f);
      break;
  }
}

// Objects, motion and relation are drawn once; only positions are redrawn until the scene is
// valid, so hard-to-place scenes (two objects, a long move) are not crowded out by easy ones.
std::optional<SceneLabel> draw_scene(const WorldOptions& options, Rng& rng) {
  constexpr int kPlacementTries = 2000;
  SceneLabel label;
  label.background = draw_background(options, rng);
  const int count = options.max_objects == 1            ? 1
                    : options.two_object_share < 0.0f     ? 1 + rng.below(2)
                    : rng.chance(options.two_object_share) ? 2
                                                           : 1;
  const Motion motion = options.frames > 1 ? static_cast<Motion>(1 + rng.below(6)) : Motion::kNone;
  label.objects.push_back(draw_object(rng, motion));
  if (count == 1 && motion == Motion::kNone) {
    const auto position = static_cast<Position>(rng.below(5));
    place_lone_object(label.objects[0], position, rng);
    label.position = position;
    return label;
  }
  if (count == 2) {
    ObjectLabel second = draw_object(rng, Motion::kNone);
    // Different colours: the colour names which object is which, in the caption and the evaluator.
    while (second.colour == label.objects[0].colour) second.colour = static_cast<Colour>(rng.below(kColourCount));
    label.objects.push_back(second);
    label.relation = static_cast<Relation>(rng.below(4));
  }
  for (int attempt = 0; attempt < kPlacementTries; ++attempt) {
    for (ObjectLabel& object : label.objects) {
      object.cx = rng.uniform(0.0f, 1.0f);
      object.cy = rng.uniform(0.0f, 1.0f);
    }
    if (!is_valid(label, options.frames)) continue;
    if (count == 1) label.position = detail::position_of(label.objects[0].cx, label.objects[0].cy);
    return label;
  }
  return std::nullopt;
}

}  // namespace

const std::vector<HeldOutTriple>& held_out_triples() {
  // Every shape twice, every colour and relation at least once: each held-out prompt combines
  // words the model has seen many times, in a combination it has not.
  static const std::vector<HeldOutTriple> kTriples = {
      {Shape::kCircle, Colour::kRed, Relation::kAbove},      {Shape::kSquare, Colour::kBlue, Relation::kLeftOf},
      {Shape::kTriangle, Colour::kGreen, Relation::kBelow},  {Shape::kRing, Colour::kYellow, Relation::kRightOf},
      {Shape::kCross, Colour::kPurple, Relation::kAbove},    {Shape::kCircle, Colour::kWhite, Relation::kLeftOf},
      {Shape::kSquare, Colour::kOrange, Relation::kBelow},   {Shape::kTriangle, Colour::kPink, Relation::kRightOf},
      {Shape::kRing, Colour::kPurple, Relation::kBelow},     {Shape::kCross, Colour::kOrange, Relation::kLeftOf},
  };
  return kTriples;
}

bool is_held_out(const SceneLabel& label) {
  if (label.objects.size() != 2 || !label.relation) return false;
  const Relation relation = *label.relation;
  for (const HeldOutTriple& t : held_out_triples()) {
    const ObjectLabel& a = label.objects[0];
    const ObjectLabel& b = label.objects[1];
    if (a.shape == t.shape && a.colour == t.colour && relation == t.relation) return true;
    if (b.shape == t.shape && b.colour == t.colour && inverse(relation) == t.relation) return true;
  }
  return false;
}

SceneLabel make_label(const WorldOptions& options, std::uint64_t seed) {
  detail::check_options(options);
  Rng rng(seed);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::optional<SceneLabel> label = draw_scene(options, rng);
    if (!label) continue;
    if (!options.include_held_out && is_held_out(*label)) continue;
    return *label;
  }
  TORCH_CHECK(false, "world::make_label: no valid scene after ", kMaxAttempts, " draws for seed ", seed);
}

Sample make_sample(const WorldOptions& options, std::uint64_t seed) {
  Sample sample;
  sample.label = make_label(options, seed);
  sample.caption = make_caption(sample.label, seed);
  sample.pixels = render(sample.label, options);
  return sample;
}

std::vector<EvalPrompt> evaluation_prompts(PromptSet set, const WorldOptions& options, int count) {
  detail::check_options(options);
  TORCH_CHECK(count >= 0, "world::evaluation_prompts: count must be >= 0, got ", count);
  WorldOptions draw_options = options;
  draw_options.include_held_out = set == PromptSet::kHeldOut;
  if (set == PromptSet::kHeldOut) draw_options.max_objects = 2;
  // A seed range of its own, far from the small seeds a trainer starts with.
  constexpr std::uint64_t kFirstSeed = 0xE0A1'0000'0000ULL;
  std::vector<EvalPrompt> prompts;
  for (std::uint64_t seed = kFirstSeed; static_cast<int>(prompts.size()) < count; ++seed) {
    SceneLabel label = make_label(draw_options, seed);
    if (set == PromptSet::kHeldOut && !is_held_out(label)) continue;
    prompts.push_back({make_caption(label, seed), std::move(label)});
  }
  return prompts;
}

}  // namespace sagegen::world
