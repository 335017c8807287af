// `sagegen --model FOLDER` on the tiny Wan2.1 diffusers folder of tests/data/wan-tiny, as a user
// runs the binary: exit code, files, sidecar, and the PNG frame strip (lossless) against
// diffusers' WanPipeline frames for the same prompts, seed, size and steps.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_process.h"
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

}  // namespace
}  // namespace sagegen::cli
