// The whole tiny Wan2.1 folder through the engine's API, as `sagegen --model FOLDER` runs it
// (Pipeline::load, Pipeline::generate): prompts as text, the umT5 tokenizer and encoder, 4 UniPC
// steps with CFG 5, the VAE decode, uint8 frames; against diffusers' WanPipeline run on the
// same folder with the same prompts and seed (reference/pipeline.safetensors).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "sagegen/diffusers/wan_pipeline.h"
#include "sagegen/errors.h"
#include "sagegen/io/safetensors.h"
#include "sagegen/pipeline.h"
#include "sagegen/scheduler.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

// manifest.json's pipeline_run.
GenerateRequest tiny_wan_request() {
  GenerateRequest request;
  request.prompt = "A cat walks on the grass, realistic style.";
  request.negative_prompt = "Bright tones, overexposed, static";
  request.width = 48;
  request.height = 32;
  request.frames = 9;
  request.steps = 4;
  request.cfg_scale = 5.0;
  request.seed = 16;
  return request;
}

TEST(WanPipelineRun, MatchesDiffusersWanPipeline) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  const GenerateRequest request = tiny_wan_request();
  check_fits_before_load(testing::wan_tiny_folder_on_cpu(), request);
  auto pipeline = Pipeline::load(testing::wan_tiny_folder_on_cpu());
  // 8 pixels per latent cell, 2 latent cells per patch.
  EXPECT_EQ(pipeline->patch_height(), 16);
  EXPECT_EQ(pipeline->patch_width(), 16);
  EXPECT_EQ(pipeline->attention_layers(), 4);
  EXPECT_EQ(pipeline->model_name(), "Wan2.1-T2V-tiny-Diffusers");
  const GenerateResult result = pipeline->generate(request);
  ASSERT_EQ(result.video.sizes(), (at::IntArrayRef{9, 32, 48, 3}));
  ASSERT_EQ(result.video.scalar_type(), at::kByte);
  // diffusers' np output is video / 2 + 0.5 in [0, 1]; sagegen rounds (x + 1) * 127.5 to
  // uint8, so a value matches within half a level plus the float error (the 1e-4 of
  // the range, as in StagesMatchDiffusersInFloat).
  const at::Tensor expected = testing::wan_reference("pipeline").at("video")[0] * 255.0;
  const double error =
      (result.video.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
  std::printf(
      "Wan pipeline (tokenize, encode, 4 UniPC steps CFG 5, decode) vs WanPipeline: max "
      "|uint8 - 255 * reference| %.4f\n",
      error);
  EXPECT_LE(error, 0.5 + 255 * 1e-4);
  EXPECT_EQ(result.step_seconds.size(), 4u);
  // The text encoder's 2 layers for each of 2 prompts, then 4 steps x 2 blocks x (self, cross).
  std::int64_t calls = 0;
  for (const auto& [variant, count] : result.attention_calls) calls += count;
  EXPECT_EQ(calls, 2 * 2 + 4 * 2 * 2);

  // The same request again: the prompts' features come from the cache (no encoder calls) and
  // the video is the same bytes.
  const GenerateResult again = pipeline->generate(request);
  std::int64_t again_calls = 0;
  for (const auto& [variant, count] : again.attention_calls) again_calls += count;
  EXPECT_EQ(again_calls, 4 * 2 * 2);
  EXPECT_TRUE(at::equal(again.video, result.video));
}

TEST(WanPipelineRun, StagesMatchDiffusersInFloat) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  // The same run through WanTextToVideo's stages, compared before the uint8 rounding.
  c10::InferenceMode inference;
  const GenerateRequest request = tiny_wan_request();
  auto wan = diffusers::WanTextToVideo::load(testing::wan_tiny_folder().string(), at::Device(at::kCPU),
                                             at::kFloat);
  AttentionContext attention(2 * wan->transformer().config().depth);
  const at::Tensor embeds =
      wan->prompt_embeddings({request.prompt, request.negative_prompt}, attention);
  const at::Tensor noise =
      initial_noise(wan->latent_shape(request.width, request.height, request.frames), request.seed,
                    at::Device(at::kCPU));
  const at::Tensor latents =
      wan->denoise(noise, embeds.slice(0, 0, 1), embeds.slice(0, 1, 2), request.steps,
                   request.cfg_scale, /*flow_shift=*/0, attention);
  const io::NamedTensors ref = testing::wan_reference("pipeline");
  const double latent_error = testing::relative_max_error(latents, ref.at("latents"));
  EXPECT_LE(latent_error, 1e-4);
  // diffusers' postprocess: video / 2 + 0.5, clamped; [1, F, H, W, 3].
  const at::Tensor video = (wan->decode(latents) / 2 + 0.5).clamp(0, 1).permute({0, 2, 3, 4, 1});
  const at::Tensor expected = ref.at("video");
  ASSERT_EQ(video.sizes(), expected.sizes());
  const double error = testing::relative_max_error(video, expected);
  std::printf(
      "Wan pipeline stages vs WanPipeline: latents %.3g, frames in [0, 1] %.3g (max abs "
      "error relative to max |reference|)\n",
      latent_error, error);
  // The 1e-4 for the frames too. The latents' float32 difference (1.1e-6 here) reaches
  // the frames through the VAE: diffusers' own frames move by 8e-6 when its latents move by
  // 1e-6 of their scale (manifest.json, pipeline_frames_change_for_1e-6_latent_change, which
  // make_fixtures.py keeps below 2e-5), so most of the bound is left to the decode's own error.
  EXPECT_LE(error, 1e-4);
}

TEST(WanPipelineRun, SizesTheVaeCannotTakeAreRequestErrors) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  GenerateRequest request = tiny_wan_request();
  request.steps = 1;
  auto pipeline = Pipeline::load(testing::wan_tiny_folder_on_cpu());
  for (const auto& [width, frames, flag] :
       std::vector<std::tuple<int, int, std::string>>{{40, 9, "width 40"}, {48, 8, "frames 8"}}) {
    GenerateRequest bad = request;
    bad.width = width;
    bad.frames = frames;
    try {
      pipeline->generate(bad);
      ADD_FAILURE() << "no RequestError for " << flag;
    } catch (const RequestError& e) {
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
    }
  }
}

TEST(WanPipelineRun, WeightsFlagWithAFolderIsAConfigError) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  LoadOptions options = testing::wan_tiny_folder_on_cpu();
  options.weights = "other.safetensors";
  try {
    Pipeline::load(options);
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("holds its own weights"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sagegen
