// A Wan2.1 text-to-video diffusers folder, loaded for generation: WanPipeline's stages on
// sagegen's components. The transformer and the VAE decoder stay loaded; the text encoder (umT5
// XXL: 5.7B parameters, 11 GB in bf16) is loaded only to encode prompts not seen before and
// released before denoising, so it never shares the device with the denoising activations.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/umt5_tokenizer.h"
#include "sagegen/model_config.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/models/wan_vae.h"
#include "sagegen/unipc_scheduler.h"

namespace sagegen::diffusers {

// What sagegen's engine needs to know of a folder before loading weights (size checks, patch,
// layer count): name = the folder's name, source_path = its model_index.json, space latent,
// latent_scale from the VAE config, dit from the transformer config. Reads configs only.
ModelConfig wan_folder_model_config(const DiffusersFolder& folder);

class WanTextToVideo {
 public:
  // Reads model_index.json and every component's config (errors name the file and key), loads
  // the transformer in `dit_dtype` and the VAE decoder in float32 (as diffusers' Wan examples
  // run it) on `device`, and the tokenizer.
  static std::unique_ptr<WanTextToVideo> load(const std::filesystem::path& folder,
                                              const at::Device& device, at::ScalarType dit_dtype);

  const DiffusersFolder& folder() const { return folder_; }
  const models::WanTransformer3DModel& transformer() const { return *transformer_; }
  std::shared_ptr<models::WanTransformer3DModel> transformer_ptr() const { return transformer_; }
  const models::WanVaeDecoder& vae() const { return *vae_; }
  const UniPCConfig& scheduler_config() const { return scheduler_config_; }
  const Umt5Tokenizer& tokenizer() const { return *tokenizer_; }
  // Parameters of the transformer and VAE decoder (what stays loaded).
  std::int64_t loaded_parameters() const;

  // WanPipeline._get_t5_prompt_embeds for each prompt: [B, 512, text_dim] in the transformer's
  // dtype. Prompts encoded before come from a cache of the last few; for the others the text
  // encoder is loaded, runs (its layers as attention ids 2 * depth + i, full precision) and is
  // released.
  at::Tensor prompt_embeddings(const std::vector<std::string>& prompts,
                               AttentionContext& attention);

  // Latents [1, z_dim, (frames - 1) / 4 + 1, height / 8, width / 8] for a video size (the
  // caller has checked the size against the VAE and the patch).
  std::vector<std::int64_t> latent_shape(int width, int height, int frames) const;

  // The denoising loop (UniPC from the folder's scheduler config, `flow_shift` replacing its
  // shift when > 0) from `noise`; `on_step(i, latents)` after each step. Returns float32 latents.
  at::Tensor denoise(const at::Tensor& noise, const at::Tensor& prompt_embeds,
                     const at::Tensor& negative_embeds, int steps, double guidance_scale,
                     double flow_shift, AttentionContext& attention,
                     const std::function<void(int, const at::Tensor&)>& on_step = {}) const;

  // Un-normalised and decoded: video [1, 3, frames, height, width] float32 in [-1, 1].
  at::Tensor decode(const at::Tensor& latents) const;

 private:
  WanTextToVideo() = default;

  DiffusersFolder folder_;
  at::Device device_{at::kCPU};
  at::ScalarType dit_dtype_ = at::kFloat;
  std::shared_ptr<models::WanTransformer3DModel> transformer_;
  std::shared_ptr<models::WanVaeDecoder> vae_;
  UniPCConfig scheduler_config_;
  std::optional<Umt5Tokenizer> tokenizer_;  // set by load()
  std::map<std::string, at::Tensor> embedding_cache_;  // prompt -> [1, 512, text_dim]
  std::vector<std::string> cache_order_;               // oldest first
};

}  // namespace sagegen::diffusers
