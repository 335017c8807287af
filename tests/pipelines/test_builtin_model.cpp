// The shipped weights (assets/sagegen-tiny.safetensors) follow prompts: adherence over the
// shapes world's fixed evaluation sets, full-precision attention, on the CPU. The bounds sit a
// few points under what docs/models.md records for the same prompts and seeds, so a retrain can
// only raise them (issue 5).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "sagegen/eval/evaluate.h"
#include "sagegen/pipeline.h"
#include "sagegen/world/shapes_world.h"

namespace sagegen {
namespace {

using eval::Attribute;

// Measured 2026-11-30 on these sets with training run 9's weights (docs/models.md), less two or
// three prompts' worth (one clip's for the clips): seen colour+shape 24/24, size 15/15,
// relation 9/9; held-out colour+shape 24/24, relation 24/24; clips colour+shape 6/6, motion 5/6
// (the GPU eval's 48 clips: 0.81).
constexpr double kSeenColourShapeMin = 0.90;
constexpr double kHeldOutColourShapeMin = 0.90;
constexpr double kSizeMin = 0.85;
constexpr double kRelationMin = 0.87;
constexpr double kClipColourShapeMin = 0.83;
constexpr double kClipMotionMin = 0.66;

// Sized for CI on 2 CPU cores: the model costs about 0.13 s a step for an image and 15x that
// for an 8-frame clip (2,048 tokens) on one thread (the clips take about 2 minutes). `sagegen
// eval` on the GPU measures the full sets (100 + 100 images, 48 clips; docs/models.md). The
// clips run the eval's 20 steps: at 10, motion read 5 of 8 (a clip's direction is set in the
// high-noise steps, docs/training.md "Motion").
constexpr int kImagePrompts = 24;
constexpr int kVideoPrompts = 6;
constexpr int kVideoSteps = 20;
constexpr std::int64_t kSeed = 42;  // prompt i uses kSeed + i, as `sagegen eval`

eval::AdherenceTally run_set(Pipeline& pipeline, world::PromptSet set, int frames, int count,
                             int steps = 20) {
  world::WorldOptions options;
  options.frames = frames;
  const auto prompts = world::evaluation_prompts(set, options, count);
  GenerateRequest request;
  request.frames = frames;
  request.steps = steps;
  request.attention = sageattn::Variant::kFp16;
  const auto draw = [&](const std::string& prompt, int index) {
    GenerateRequest one = request;
    one.prompt = prompt;
    one.seed = kSeed + index;
    return pipeline.generate(one).video;
  };
  return eval::evaluate_prompts(eval::captions_of(prompts), draw);
}

double accuracy(const eval::AdherenceTally& tally, Attribute a) {
  const auto value = tally.accuracy(a);
  EXPECT_TRUE(value.has_value()) << "no prompt asked for " << eval::to_string(a);
  return value.value_or(0.0);
}

class BuiltInModelAdherence : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LoadOptions options;
    options.model = std::string(SAGEGEN_SOURCE_DIR) + "/configs/models/sagegen-tiny.yaml";
    options.device = DeviceChoice::kCpu;
    pipeline_ = Pipeline::load(options).release();
  }
  static void TearDownTestSuite() {
    delete pipeline_;
    pipeline_ = nullptr;
  }
  static Pipeline* pipeline_;
};
Pipeline* BuiltInModelAdherence::pipeline_ = nullptr;

TEST_F(BuiltInModelAdherence, ShippedWeightsAreTrained) {
  EXPECT_FALSE(pipeline_->random_weights()) << "configs/models/sagegen-tiny.yaml has no weights";
}

TEST_F(BuiltInModelAdherence, ImagesFollowColourShapeAndRelation) {
  const auto seen = run_set(*pipeline_, world::PromptSet::kSeen, 1, kImagePrompts);
  const auto held_out = run_set(*pipeline_, world::PromptSet::kHeldOut, 1, kImagePrompts);
  std::printf("seen (%d prompts):\n%s\nheld-out (%d prompts):\n%s\n", kImagePrompts,
              seen.table().c_str(), kImagePrompts, held_out.table().c_str());
  EXPECT_GE(accuracy(seen, Attribute::kColourShape), kSeenColourShapeMin);
  EXPECT_GE(accuracy(held_out, Attribute::kColourShape), kHeldOutColourShapeMin);
  EXPECT_GE(accuracy(seen, Attribute::kSize), kSizeMin);
  EXPECT_GE(accuracy(held_out, Attribute::kRelation), kRelationMin);
}

TEST_F(BuiltInModelAdherence, VideosFollowColourShapeAndMotion) {
  const auto clips = run_set(*pipeline_, world::PromptSet::kSeen, 8, kVideoPrompts, kVideoSteps);
  std::printf("videos, 8 frames, %d steps (%d prompts):\n%s\n", kVideoSteps, kVideoPrompts,
              clips.table().c_str());
  // Every clip prompt asks for a motion; the object must hold across the frames as in images.
  EXPECT_EQ(clips.total(Attribute::kMotion), kVideoPrompts);
  EXPECT_GE(accuracy(clips, Attribute::kColourShape), kClipColourShapeMin);
  EXPECT_GE(accuracy(clips, Attribute::kMotion), kClipMotionMin);
}

}  // namespace
}  // namespace sagegen
