// Parity with diffusers' WanPipeline from token ids to denoised latents: the tiny folder's UMT5
// encoder makes the prompt features (each prompt at its length, zero-padded to 512), then
// 4 UniPC steps with CFG 5 from the same initial latents (diffusers' output_type="latent").
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "sagegen/attention_context.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/scheduler_config.h"
#include "sagegen/diffusers/umt5_text_encoder.h"
#include "sagegen/diffusers/wan_denoise.h"
#include "sagegen/diffusers/wan_transformer.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

TEST(WanParity, EncodeAndFourUniPCStepsMatchWanPipeline) {
  c10::InferenceMode inference;
  const diffusers::DiffusersFolder folder =
      diffusers::read_diffusers_folder(testing::wan_tiny_folder());
  const auto options = at::TensorOptions().dtype(at::kFloat);
  auto transformer = diffusers::load_wan_transformer(folder.require("transformer").dir, options);
  auto encoder = diffusers::load_umt5_encoder(folder.require("text_encoder").dir, options);
  const UniPCConfig scheduler_config = diffusers::read_unipc_scheduler_config(
      folder.require("scheduler").dir / "scheduler_config.json");
  const io::NamedTensors text = testing::wan_reference("text_encoder");
  const io::NamedTensors ref = testing::wan_reference("denoise");

  const int depth = transformer->config().depth;
  AttentionContext attention(2 * depth, sageattn::Variant::kFp16);
  const at::Tensor embeds = diffusers::wan_prompt_embeddings(
      *encoder, text.at("input_ids").to(at::kLong), text.at("attention_mask"), attention,
      2 * depth, diffusers::kWanTextLength);
  const double embed_error = testing::relative_max_error(embeds, ref.at("prompt_embeds"));
  EXPECT_LE(embed_error, 1e-4);
  // Beyond the second prompt's 7 tokens, zeros exactly.
  EXPECT_EQ(embeds[1].slice(0, 7).abs().max().item<float>(), 0.0f);

  UniPCMultistepScheduler scheduler(scheduler_config, 4);
  const at::Tensor out =
      diffusers::wan_denoise(*transformer, scheduler, ref.at("latents"), embeds.slice(0, 0, 1),
                             embeds.slice(0, 1, 2), 5.0, attention);
  const at::Tensor expected = ref.at("denoised");
  const double error = testing::relative_max_error(out, expected);
  std::printf("Wan encode + 4 UniPC steps (CFG 5) vs WanPipeline: prompt features %.3g, "
              "latents %.3g (max abs error relative to max |reference|)\n",
              embed_error, error);
  EXPECT_LE(error, 1e-4);
  // 2 text-encoder layers, then per step 2 blocks x (self + cross) on the batch of 2.
  EXPECT_EQ(attention.total_calls(), 2 + 4 * 2 * depth);
}

}  // namespace
}  // namespace sagegen
