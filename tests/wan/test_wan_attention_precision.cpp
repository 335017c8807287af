// Attention precision inside the tiny Wan2.1 folder (2 blocks: layers blocks.0.attn1 = 0,
// blocks.0.attn2 = 1, blocks.1.attn1 = 2, blocks.1.attn2 = 3): cross-attention to the text stays
// fp16 under --attention and under a table's default, a table's own rules may still name it,
// and tables may name the layers. Counted through GenerateResult::attention_calls, what the
// sidecar writes. CPU: the quantized variants run as their golden models.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "common/temp_dir.h"
#include "sagegen/errors.h"
#include "sagegen/pipeline.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

namespace fs = std::filesystem;
using Counts = std::map<std::string, std::int64_t>;

// 2 steps with CFG (cond and uncond in one batch): each layer is called once per step, so every
// layer id has 2 calls; the text encoder's 2 layers run for the prompt and the negative prompt
// once per pipeline (the features are cached afterwards).
constexpr std::int64_t kCallsPerLayer = 2;

GenerateRequest small_request() {
  GenerateRequest request;
  request.prompt = "a red circle";
  request.width = 32;
  request.height = 32;
  request.frames = 1;
  request.steps = 2;
  request.cfg_scale = 5.0;
  return request;
}

class WanAttentionPrecision : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!SAGEGEN_WITH_SENTENCEPIECE) return;
    dir_ = new testing::TempDir("sagegen-wan-precision");
    pipeline_ = Pipeline::load(testing::wan_tiny_folder_on_cpu()).release();
    // The text encoder's calls happen once (then the features are cached): run them off the
    // record, so every test below counts DiT calls only.
    pipeline_->generate(small_request());
  }
  static void TearDownTestSuite() {
    delete pipeline_;
    pipeline_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE(); }

  // Writes `yaml` (the model line added) as a table and returns its path.
  static std::string table(const std::string& name, const std::string& rules) {
    const fs::path path = dir_->path() / name;
    std::ofstream(path) << "model: Wan2.1-T2V-tiny-Diffusers\n" << rules;
    return path.string();
  }

  static Counts calls_with(const std::string& table_path,
                           std::optional<sageattn::Variant> attention = {}) {
    GenerateRequest request = small_request();
    request.table = table_path;
    request.attention = attention;
    return pipeline_->generate(request).attention_calls;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline Pipeline* pipeline_ = nullptr;
};

TEST_F(WanAttentionPrecision, TheModelKeepsCrossAttentionInFullPrecision) {
  ASSERT_EQ(pipeline_->model_precision_rules().size(), 1u);
  const sageattn::TableRule& rule = pipeline_->model_precision_rules()[0];
  EXPECT_EQ(sageattn::to_string(rule.layers), "blocks.*.attn2");
  EXPECT_TRUE(rule.steps.is_all());
  EXPECT_EQ(rule.variant, sageattn::Variant::kFp16);
}

TEST_F(WanAttentionPrecision, AttentionFlagRunsSelfAttentionOnly) {
  // Self-attention (layers 0, 2) in sage2-8b; cross-attention (1, 3) stays fp16.
  EXPECT_EQ(calls_with("", sageattn::Variant::kSage2Int8),
            (Counts{{"sage2-8b", 2 * kCallsPerLayer}, {"fp16", 2 * kCallsPerLayer}}));
}

TEST_F(WanAttentionPrecision, ATablesDefaultLeavesCrossAttentionToTheModel) {
  EXPECT_EQ(calls_with(table("default.yaml", "default: sage2-4b\n")),
            (Counts{{"sage2-4b", 2 * kCallsPerLayer}, {"fp16", 2 * kCallsPerLayer}}));
}

TEST_F(WanAttentionPrecision, ATablesRulesMayNameCrossAttention) {
  // By pattern: every cross-attention layer in sage1.
  EXPECT_EQ(calls_with(table("cross.yaml", "default: sage2-4b\nrules:\n"
                                           "  - {layers: \"blocks.*.attn2\", steps: all, "
                                           "variant: sage1}\n")),
            (Counts{{"sage2-4b", 2 * kCallsPerLayer}, {"sage1", 2 * kCallsPerLayer}}));
  // By name and by number: blocks.1.attn2 is layer 3; blocks.0.attn2 stays with the model.
  for (const std::string layers : {"blocks.1.attn2", "3"}) {
    SCOPED_TRACE(layers);
    EXPECT_EQ(calls_with(table("one-" + layers + ".yaml",
                               "default: sage2-8b\nrules:\n  - {layers: " + layers +
                                   ", steps: all, variant: sage1}\n")),
              (Counts{{"sage2-8b", 2 * kCallsPerLayer},
                      {"sage1", kCallsPerLayer},
                      {"fp16", kCallsPerLayer}}));
  }
  // `all` names every layer, cross-attention included.
  EXPECT_EQ(calls_with(table("all.yaml",
                             "default: fp16\nrules:\n  - {layers: all, steps: all, variant: sage1}\n")),
            (Counts{{"sage1", 4 * kCallsPerLayer}}));
}

TEST_F(WanAttentionPrecision, NamesOutsideTheModelAreLocatedErrors) {
  const std::string path =
      table("outside.yaml", "default: fp16\nrules:\n  - {layers: blocks.2.attn1, steps: all, "
                            "variant: sage1}\n");
  try {
    calls_with(path);
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":4:14: rules[0].layers: \"blocks.2.attn1\" is outside the model (the model "
                     "has 2 blocks: blocks.0-1, 4 layers)");
  }
}

}  // namespace
}  // namespace sagegen
