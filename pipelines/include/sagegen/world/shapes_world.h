// The procedural captioned shapes world the built-in model is trained on: scenes of one or two
// coloured shapes on a dark plain or two-tone background, captions from templates using only
// words of assets/vocab.txt, and (for video) one object moving or changing size over the frames.
// Everything is deterministic by seed and rendered on the CPU with 4x4 supersampling.
// docs/world.md describes the templates, the held-out combinations and the geometry.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sagegen::world {

enum class Shape { kCircle, kSquare, kTriangle, kRing, kCross };
// Bright or saturated colours only: backgrounds are dark and neutral, so black and gray (words
// of the vocabulary) are never object colours.
enum class Colour { kRed, kOrange, kYellow, kGreen, kBlue, kPurple, kPink, kWhite };
enum class Size { kSmall, kLarge };
// Relation of object 0 to object 1 ("object 0 is left of object 1").
enum class Relation { kLeftOf, kRightOf, kAbove, kBelow };
// Where a lone object sits in the frame.
enum class Position { kLeft, kRight, kTop, kBottom, kCenter };
enum class Motion { kNone, kLeft, kRight, kUp, kDown, kGrowing, kShrinking };
enum class BackgroundKind { kPlain, kTwoTone };

inline constexpr int kShapeCount = 5;
inline constexpr int kColourCount = 8;

struct ObjectLabel {
  Shape shape = Shape::kCircle;
  Colour colour = Colour::kRed;
  Size size = Size::kSmall;  // for growing/shrinking objects: the size at the first frame
  float cx = 0.5f;           // centre at the first frame, in [0, 1] of the image width
  float cy = 0.5f;           // centre at the first frame, in [0, 1] of the image height (0 = top)
  float radius = 0.1f;       // half the side of the shape's bounding box at the first frame, in [0, 1]
  Motion motion = Motion::kNone;
};

struct Background {
  BackgroundKind kind = BackgroundKind::kPlain;
  std::array<std::uint8_t, 3> first{30, 30, 30};
  std::array<std::uint8_t, 3> second{30, 30, 30};  // two-tone only
  bool vertical_split = true;  // two-tone: first tone left of the split (else above it)
  float split = 0.5f;          // two-tone: where the tones meet, in [0, 1]
};

struct SceneLabel {
  std::vector<ObjectLabel> objects;   // 1 or 2
  std::optional<Relation> relation;   // of object 0 to object 1; set exactly when 2 objects
  std::optional<Position> position;   // of object 0; set exactly when 1 object
  Background background;
};

struct WorldOptions {
  int size = 64;         // square images, size x size pixels (>= 32)
  int frames = 1;        // 1 = image; 8..16 for video (motions only then)
  int max_objects = 2;   // 1 or 2
  // With max_objects 2: the chance of a two-object scene (with a relation). Negative: the
  // world's own even draw (one rng.below(2), so scenes of earlier versions are unchanged).
  float two_object_share = -1.0f;
  bool two_tone_backgrounds = true;
  bool include_held_out = false;  // false: held-out triples are never generated
};

struct Sample {
  at::Tensor pixels;  // [frames, size, size, 3] uint8, CPU, contiguous
  std::string caption;
  SceneLabel label;
};

// One scene: label, caption and pixels, deterministic by (options, seed).
Sample make_sample(const WorldOptions& options, std::uint64_t seed);

// The pieces of make_sample, for callers that need only some of them.
SceneLabel make_label(const WorldOptions& options, std::uint64_t seed);
std::string make_caption(const SceneLabel& label, std::uint64_t seed);  // a paraphrase picked by seed
at::Tensor render(const SceneLabel& label, const WorldOptions& options);  // [frames, size, size, 3] uint8

// Geometry of a label at a frame (video): centre and radius after the object's motion.
struct ObjectPlacement {
  float cx;
  float cy;
  float radius;
};
ObjectPlacement placement_at(const ObjectLabel& object, int frame, int frames);

// The held-out shape-colour-relation triples: a scene is held out when object 0 has the shape
// and colour and stands in the relation to object 1, or object 1 has them and stands in the
// relation to object 0 (the same scene described the other way round).
struct HeldOutTriple {
  Shape shape;
  Colour colour;
  Relation relation;
};
const std::vector<HeldOutTriple>& held_out_triples();
bool is_held_out(const SceneLabel& label);

// Fixed prompt sets for evaluation, deterministic: kSeen never contains a held-out triple;
// kHeldOut holds only held-out two-object scenes. With options.frames > 1 every prompt has a motion.
enum class PromptSet { kSeen, kHeldOut };
struct EvalPrompt {
  std::string caption;
  SceneLabel label;
};
std::vector<EvalPrompt> evaluation_prompts(PromptSet set, const WorldOptions& options, int count);

// Names as they appear in captions ("red", "circle", "left of", "moving up", ...).
std::string_view to_string(Shape shape);
std::string_view to_string(Colour colour);
std::string_view to_string(Size size);
std::string_view to_string(Relation relation);
std::string_view to_string(Position position);
std::string_view to_string(Motion motion);
std::string_view to_string(PromptSet set);

// The RGB value each colour is painted with (far apart from each other and from the backgrounds).
std::array<std::uint8_t, 3> rgb(Colour colour);

Relation inverse(Relation relation);

}  // namespace sagegen::world
