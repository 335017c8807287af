// The shapes world: determinism, caption/label agreement, vocabulary, held-out combinations.
#include "sagegen/eval/prompt_parser.h"
#include "sagegen/text/tokenizer.h"
#include "sagegen/world/shapes_world.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

namespace {

using namespace sagegen::world;
using sagegen::eval::parse_prompt;
using sagegen::eval::PromptSpec;
using sagegen::eval::spec_of;

WorldOptions video_options() {
  WorldOptions options;
  options.frames = 12;
  return options;
}

TEST(World, SameSeedSameBytesDifferentSeedsDiffer) {
  for (const WorldOptions& options : {WorldOptions{}, video_options()}) {
    const Sample a = make_sample(options, 7);
    const Sample b = make_sample(options, 7);
    const Sample c = make_sample(options, 8);
    ASSERT_EQ(a.pixels.sizes(), (std::vector<std::int64_t>{options.frames, 64, 64, 3}));
    EXPECT_EQ(a.pixels.scalar_type(), at::kByte);
    EXPECT_TRUE(a.pixels.is_contiguous());
    EXPECT_TRUE(at::equal(a.pixels, b.pixels));
    EXPECT_EQ(a.caption, b.caption);
    EXPECT_FALSE(at::equal(a.pixels, c.pixels));
  }
}

TEST(World, ClipFramesChangeAndImagesHaveNoMotion) {
  const Sample clip = make_sample(video_options(), 3);
  ASSERT_NE(clip.label.objects[0].motion, Motion::kNone);
  EXPECT_FALSE(at::equal(clip.pixels[0], clip.pixels[11])) << clip.caption;
  const Sample still = make_sample(WorldOptions{}, 3);
  EXPECT_EQ(still.label.objects[0].motion, Motion::kNone);
}

void expect_caption_states_label(const Sample& sample) {
  const PromptSpec parsed = parse_prompt(sample.caption);
  const PromptSpec truth = spec_of(sample.label);
  ASSERT_EQ(parsed.objects.size(), truth.objects.size()) << sample.caption;
  for (std::size_t i = 0; i < truth.objects.size(); ++i) {
    EXPECT_EQ(parsed.objects[i].shape, truth.objects[i].shape) << sample.caption;
    EXPECT_EQ(parsed.objects[i].colour, truth.objects[i].colour) << sample.caption;
    EXPECT_EQ(parsed.objects[i].motion, truth.objects[i].motion) << sample.caption;
    if (parsed.objects[i].size) {
      EXPECT_EQ(parsed.objects[i].size, truth.objects[i].size) << sample.caption;
    }
  }
  EXPECT_EQ(parsed.relation, truth.relation) << sample.caption;
  EXPECT_EQ(parsed.position, truth.position) << sample.caption;
}

TEST(World, ParserRecoversTheLabelFromTheCaption) {
  int sized = 0;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    const Sample image = make_sample(WorldOptions{}, seed);
    expect_caption_states_label(image);
    sized += parse_prompt(image.caption).objects[0].size.has_value() ? 1 : 0;
    const SceneLabel clip_label = make_label(video_options(), seed);
    expect_caption_states_label({at::Tensor(), make_caption(clip_label, seed), clip_label});
  }
  EXPECT_GT(sized, 100);  // the size words are there often enough to learn from
}

TEST(World, EveryCaptionWordIsInTheVocabulary) {
  const auto tokenizer = sagegen::text::WordTokenizer::from_file(SAGEGEN_SOURCE_DIR "/assets/vocab.txt");
  std::set<std::string> words;
  for (std::uint64_t seed = 0; seed < 3000; ++seed) {
    for (const WorldOptions& options : {WorldOptions{}, video_options()}) {
      const std::string caption = make_caption(make_label(options, seed), seed);
      EXPECT_TRUE(tokenizer.unknown_words(caption).empty()) << caption;
      for (const std::string& w : tokenizer.split(caption)) words.insert(w);
    }
  }
  // The paraphrases were all drawn: every colour, shape, relation and motion word at least.
  for (const char* w : {"red", "white", "cross", "ring", "over", "under", "middle", "shrinks", "sliding", "two-tone"}) {
    EXPECT_TRUE(words.count(w)) << w;
  }
}

TEST(World, HeldOutCombinationsOnlyWhenAsked) {
  WorldOptions options;
  int held_out_when_allowed = 0;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    EXPECT_FALSE(is_held_out(make_label(options, seed))) << seed;
    WorldOptions allowed = options;
    allowed.include_held_out = true;
    held_out_when_allowed += is_held_out(make_label(allowed, seed)) ? 1 : 0;
  }
  EXPECT_GT(held_out_when_allowed, 20);  // the filter has something to remove
  for (const EvalPrompt& p : evaluation_prompts(PromptSet::kHeldOut, options, 40)) EXPECT_TRUE(is_held_out(p.label));
  for (const EvalPrompt& p : evaluation_prompts(PromptSet::kSeen, options, 40)) EXPECT_FALSE(is_held_out(p.label));
}

TEST(World, TwoObjectShareSetsHowOftenScenesHaveARelation) {
  WorldOptions options;
  int two = 0, two_default = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    options.two_object_share = 0.8f;
    const SceneLabel label = make_label(options, seed);
    two += label.objects.size() == 2 ? 1 : 0;
    EXPECT_EQ(label.objects.size() == 2, label.relation.has_value()) << seed;
    options.two_object_share = -1.0f;
    two_default += make_label(options, seed).objects.size() == 2 ? 1 : 0;
  }
  EXPECT_GT(two, 140);  // 160 expected
  EXPECT_LT(two, 180);
  EXPECT_GT(two_default, 70);  // the world's even draw
  EXPECT_LT(two_default, 130);
  options.two_object_share = 0.0f;
  EXPECT_EQ(make_label(options, 5).objects.size(), 1u);
}

TEST(World, HeldOutMatchesEitherWayRound) {
  SceneLabel label;
  label.objects = {ObjectLabel{}, ObjectLabel{}};
  label.objects[0].shape = Shape::kSquare;
  label.objects[0].colour = Colour::kGreen;
  label.objects[1].shape = Shape::kCircle;
  label.objects[1].colour = Colour::kRed;
  label.relation = Relation::kBelow;  // the red circle is above the green square
  EXPECT_TRUE(is_held_out(label));
  label.relation = Relation::kAbove;
  EXPECT_FALSE(is_held_out(label));
}

TEST(World, EvaluationPromptsAreFixed) {
  const auto a = evaluation_prompts(PromptSet::kSeen, WorldOptions{}, 10);
  const auto b = evaluation_prompts(PromptSet::kSeen, WorldOptions{}, 10);
  ASSERT_EQ(a.size(), 10u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].caption, b[i].caption);
  for (const EvalPrompt& p : evaluation_prompts(PromptSet::kSeen, video_options(), 10)) {
    EXPECT_NE(p.label.objects[0].motion, Motion::kNone) << p.caption;
  }
}

TEST(World, BadOptionsNameTheField) {
  WorldOptions options;
  options.size = 8;
  EXPECT_THROW(
      {
        try {
          make_sample(options, 1);
        } catch (const c10::Error& e) {
          EXPECT_NE(std::string(e.what()).find("options.size"), std::string::npos);
          throw;
        }
      },
      c10::Error);
  options = WorldOptions{};
  options.max_objects = 3;
  EXPECT_THROW(make_label(options, 1), c10::Error);
}

}  // namespace
