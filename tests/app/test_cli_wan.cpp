// `sagegen --model FOLDER` on the tiny Wan2.1 diffusers folder of tests/data/wan-tiny, as a user
// runs the binary: exit code, files, sidecar, and the PNG frame strip (lossless) against
// diffusers' WanPipeline frames for the same prompts, seed, size and steps.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_process.h"
#include "sageattn/table.h"
#include "sagegen/io/image.h"
#include "sagegen/io/safetensors.h"

namespace sagegen::cli {
namespace {

using testing::ProcessResult;
using testing::read_bytes;
using testing::run_sagegen;
using testing::TempDir;
namespace fs = std::filesystem;

const std::string kWanFolder = SAGEGEN_SOURCE_DIR "/tests/data/wan-tiny/Wan2.1-T2V-tiny-Diffusers";

TEST(CliWan, DiffusersFolderGeneratesTheFramesDiffusersDoes) {
  if (!SAGEGEN_WITH_SENTENCEPIECE) GTEST_SKIP() << "built without sentencepiece";
  TempDir dir;
  // manifest.json's pipeline_run.
  const ProcessResult r = run_sagegen({"--model",     kWanFolder,
                                       "-p",          "A cat walks on the grass, realistic style.",
                                       "-n",          "Bright tones, overexposed, static",
                                       "--size",      "48x32",
                                       "--frames",    "9",
                                       "--steps",     "4",
                                       "--cfg-scale", "5",
                                       "-s",          "16",
                                       "--device",    "cpu",
                                       "-o",          (dir.path() / "cat.mp4").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "cat.json"));
  EXPECT_EQ(sidecar["model"], kWanFolder);
  EXPECT_EQ(sidecar["model_config"], kWanFolder + "/model_index.json");
  EXPECT_EQ(sidecar["model_name"], "Wan2.1-T2V-tiny-Diffusers");
  EXPECT_EQ(sidecar["frames"], 9);
  EXPECT_TRUE(fs::exists(sidecar["files"]["media"].get<std::string>()));

  // The strip: the 9 frames side by side, [32, 9 * 48, 3].
  const at::Tensor strip = io::read_png(dir.path() / "cat_strip.png");
  ASSERT_EQ(strip.sizes(), (at::IntArrayRef{32, 9 * 48, 3}));
  const at::Tensor frames = strip.view({32, 9, 48, 3}).permute({1, 0, 2, 3});  // [F, H, W, 3]
  const at::Tensor expected =
      io::SafetensorsFile::open(SAGEGEN_SOURCE_DIR
                                "/tests/data/wan-tiny/reference/pipeline.safetensors")
          .read_all()
          .at("video")[0] *
      255.0;
  // Half a level of rounding plus the float error tests/wan's WanPipelineRun allows (1e-4).
  const double error =
      (frames.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(error, 0.5 + 255 * 1e-4);
}

TEST(CliWan, FramesTheVaeCannotTakeExitWith2) {
  if (!SAGEGEN_WITH_SENTENCEPIECE) GTEST_SKIP() << "built without sentencepiece";
  TempDir dir;
  const ProcessResult r =
      run_sagegen({"--model", kWanFolder, "-p", "x", "--size", "48x32", "--frames", "8", "--steps",
                   "1", "--device", "cpu", "-o", (dir.path() / "x.mp4").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--frames 8"), std::string::npos) << r.err;
}

// `sagegen calibrate` on the folder (CPU: the golden model of every variant): a table for the
// folder's model with layers by name, self-attention only (the model's own rule keeps
// cross-attention in fp16, so it is not measured), which `sagegen --model FOLDER --table` runs:
// the sidecar counts the calls per variant.
TEST(CliWan, CalibrateWritesATableTheFolderRuns) {
  if (!SAGEGEN_WITH_SENTENCEPIECE) GTEST_SKIP() << "built without sentencepiece";
  TempDir dir;
  testing::write_bytes(dir.path() / "prompts.txt", "a red circle above a blue square\n");
  const fs::path table = dir.path() / "wan.yaml";
  const ProcessResult calibrated = run_sagegen(
      {"calibrate", "--model", kWanFolder, "--steps", "2", "--size", "32x32", "--frames", "1",
       "--device", "cpu", "--seeds", "1", "--prompts", (dir.path() / "prompts.txt").string(),
       "--out", table.string()});
  ASSERT_EQ(calibrated.exit_code, 0) << calibrated.err;
  EXPECT_EQ(calibrated.out, table.string() + "\n");
  const std::string text = read_bytes(table);
  EXPECT_NE(text.find("model: Wan2.1-T2V-tiny-Diffusers\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# Not measured: the layers the model's own rules decide under every table "
                      "(blocks.*.attn2: fp16;"),
            std::string::npos)
      << text;
  const auto loaded = sageattn::PrecisionTable::load_file(table.string());
  ASSERT_FALSE(loaded.rules().empty()) << text;
  for (const sageattn::TableRule& rule : loaded.rules()) {
    // Self-attention by name: blocks.N.attn1 (2 blocks, 2 steps: 4 pairs, 1 of them 8-bit).
    ASSERT_FALSE(rule.layers.is_all()) << text;
    for (const sageattn::IndexSpan& span : rule.layers.spans()) {
      EXPECT_EQ(span.form, sageattn::SpanForm::kSelfAttention) << text;
    }
  }

  const ProcessResult generated = run_sagegen(
      {"--model", kWanFolder, "--table", table.string(), "-p", "a red circle", "--size", "32x32",
       "--frames", "1", "--steps", "2", "--device", "cpu", "-o", (dir.path() / "x.png").string()});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "x.json"));
  EXPECT_EQ(sidecar["table"], table.string());
  // Self-attention: 2 layers x 2 steps as calibrated (round(0.3 x 4) = 1 pair in 8-bit);
  // cross-attention 2 x 2 and the text encoder's 2 layers x 2 prompts in fp16.
  EXPECT_EQ(sidecar["attention_calls"],
            (nlohmann::json{{"sage2-8b", 1}, {"sage2-4b", 3}, {"fp16", 4 + 4}}))
      << sidecar.dump();
}

// --attention VARIANT runs self-attention in VARIANT; cross-attention stays fp16 (docs/wan.md).
TEST(CliWan, AttentionFlagLeavesCrossAttentionInFullPrecision) {
  if (!SAGEGEN_WITH_SENTENCEPIECE) GTEST_SKIP() << "built without sentencepiece";
  TempDir dir;
  const ProcessResult r = run_sagegen(
      {"--model", kWanFolder, "--attention", "sage2-8b", "-p", "a red circle", "--size", "32x32",
       "--frames", "1", "--steps", "2", "--device", "cpu", "-o", (dir.path() / "x.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "x.json"));
  EXPECT_EQ(sidecar["attention_calls"], (nlohmann::json{{"sage2-8b", 4}, {"fp16", 4 + 4}}))
      << sidecar.dump();
  EXPECT_NE(r.err.find("--attention sage2-8b; model rule blocks.*.attn2: fp16"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace sagegen::cli
