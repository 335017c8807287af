#include "sagegen/diffusers/wan_pipeline.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "sagegen/diffusers/scheduler_config.h"
#include "sagegen/diffusers/umt5_text_encoder.h"
#include "sagegen/diffusers/wan_denoise.h"
#include "sagegen/diffusers/wan_transformer.h"
#include "sagegen/diffusers/wan_vae.h"
#include "sagegen/errors.h"

namespace sagegen::diffusers {
namespace {

// Prompt features kept between generate() calls (a batch of seeds, a prompt and its negative):
// 4 MB each at 1.3B's text_dim in bf16.
constexpr std::size_t kCachedPrompts = 8;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::int64_t parameter_count(const torch::nn::Module& module) {
  std::int64_t count = 0;
  for (const at::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

// Cross-attention (attn2) reads the 512 umT5 positions, zero-padded past the prompt:
// SageAttention gains nothing at that length and users report failures there, so Wan keeps it
// in full precision unless a table's own rules name those layers (docs/wan.md, "Attention
// precision").
sageattn::TableRule cross_attention_in_full_precision(const std::string& source) {
  sageattn::IndexSpan every_block;  // blocks.*.attn2
  every_block.first = sageattn::cross_attention_layer(0);
  every_block.form = sageattn::SpanForm::kCrossAttention;
  sageattn::TableRule rule;
  rule.layers = sageattn::IndexSet::of({every_block});
  rule.steps = sageattn::IndexSet::all();
  rule.variant = sageattn::Variant::kFp16;
  rule.comment = "Wan: cross-attention to the text in full precision";
  rule.where = {source};
  return rule;
}

}  // namespace

ModelConfig wan_folder_model_config(const DiffusersFolder& folder) {
  ModelConfig config;
  config.name = folder.root.filename().string();
  if (config.name.empty()) config.name = folder.root.parent_path().filename().string();
  config.source_path = (folder.root / "model_index.json").string();
  config.space = ModelSpace::kLatent;
  config.weights = folder.root.string();
  config.dit = read_wan_transformer_config(folder.require("transformer").dir / "config.json");
  const models::WanVaeConfig vae = read_wan_vae_config(folder.require("vae").dir / "config.json");
  config.latent_scale = Extent3{vae.temporal_scale(), vae.spatial_scale(), vae.spatial_scale()};
  config.cuda_dtype = ComputeDType::kBFloat16;
  config.prediction = Prediction::kVelocity;
  config.default_width = 832;
  config.default_height = 480;
  config.precision_rules = {cross_attention_in_full_precision(config.source_path)};
  return config;
}

std::unique_ptr<WanTextToVideo> WanTextToVideo::load(const std::filesystem::path& path,
                                                     const at::Device& device,
                                                     at::ScalarType dit_dtype) {
  std::unique_ptr<WanTextToVideo> wan(new WanTextToVideo());
  wan->folder_ = read_diffusers_folder(path);
  wan->device_ = device;
  wan->dit_dtype_ = dit_dtype;
  // Every config first, so a bad folder fails before gigabytes are read.
  wan->scheduler_config_ =
      read_unipc_scheduler_config(wan->folder_.require("scheduler").dir / "scheduler_config.json");
  read_umt5_config(wan->folder_.require("text_encoder").dir / "config.json");
  wan->tokenizer_ = Umt5Tokenizer::load(wan->folder_.require("tokenizer").dir);
  const ModelConfig config = wan_folder_model_config(wan->folder_);
  const at::TensorOptions options = at::TensorOptions().device(device);
  wan->transformer_ =
      load_wan_transformer(wan->folder_.require("transformer").dir, options.dtype(dit_dtype));
  wan->vae_ = load_wan_vae_decoder(wan->folder_.require("vae").dir, options.dtype(at::kFloat));
  if (wan->vae_->config().z_dim != config.dit.in_channels) {
    throw ConfigError(
        fmt::format("{}: z_dim {} differs from the transformer's in_channels {} ({})",
                    (wan->folder_.require("vae").dir / "config.json").string(),
                    wan->vae_->config().z_dim, config.dit.in_channels,
                    (wan->folder_.require("transformer").dir / "config.json").string()));
  }
  return wan;
}

std::int64_t WanTextToVideo::loaded_parameters() const {
  return parameter_count(*transformer_) + parameter_count(*vae_);
}

at::Tensor WanTextToVideo::prompt_embeddings(const std::vector<std::string>& prompts,
                                             AttentionContext& attention) {
  std::vector<std::string> missing;
  for (const std::string& prompt : prompts) {
    if (embedding_cache_.count(prompt) == 0 &&
        std::find(missing.begin(), missing.end(), prompt) == missing.end()) {
      missing.push_back(prompt);
    }
  }
  if (!missing.empty()) {
    const int depth = transformer_->config().depth;
    attention.set_step(-1);
    // Loaded for these prompts only; the shared_ptr is the only owner, so its memory returns to
    // the allocator when this block ends, before any denoising step runs.
    const auto load_start = std::chrono::steady_clock::now();
    const auto encoder = load_umt5_encoder(folder_.require("text_encoder").dir,
                                           at::TensorOptions().device(device_).dtype(dit_dtype_));
    // The encoder's load is most of this stage at real size (11 GB in bf16): logged apart.
    spdlog::info("text encoder: {:.1f}M parameters loaded in {:.2f} s",
                 parameter_count(*encoder) / 1e6, seconds_since(load_start));
    if (tokenizer_->vocab_size() > encoder->config().vocab_size) {
      throw ConfigError(
          fmt::format("{}: the tokenizer has {} pieces, more than the text encoder's vocab_size {}",
                      folder_.require("tokenizer").dir.string(), tokenizer_->vocab_size(),
                      encoder->config().vocab_size));
    }
    for (const std::string& prompt : missing) {
      const TokenizedPrompts tokens = tokenizer_->encode_prompts({prompt}, kWanTextLength);
      const at::Tensor embeds =
          wan_prompt_embeddings(*encoder, tokens.ids.to(device_), tokens.mask.to(device_),
                                attention, 2 * depth, kWanTextLength)
              .to(dit_dtype_);
      embedding_cache_[prompt] = embeds;
      cache_order_.push_back(prompt);
      if (cache_order_.size() > kCachedPrompts) {
        embedding_cache_.erase(cache_order_.front());
        cache_order_.erase(cache_order_.begin());
      }
    }
    spdlog::info("text encoder: {} prompt{} encoded, encoder released", missing.size(),
                 missing.size() == 1 ? "" : "s");
  }
  std::vector<at::Tensor> out;
  for (const std::string& prompt : prompts) out.push_back(embedding_cache_.at(prompt));
  return at::cat(out);
}

std::vector<std::int64_t> WanTextToVideo::latent_shape(int width, int height, int frames) const {
  const models::WanVaeConfig& vae = vae_->config();
  return {1, vae.z_dim, (frames - 1) / vae.temporal_scale() + 1, height / vae.spatial_scale(),
          width / vae.spatial_scale()};
}

at::Tensor WanTextToVideo::denoise(
    const at::Tensor& noise, const at::Tensor& prompt_embeds, const at::Tensor& negative_embeds,
    int steps, double guidance_scale, double flow_shift, AttentionContext& attention,
    const std::function<void(int, const at::Tensor&)>& on_step) const {
  UniPCConfig config = scheduler_config_;
  if (flow_shift > 0) config.flow_shift = flow_shift;
  UniPCMultistepScheduler scheduler(config, steps);
  return wan_denoise(*transformer_, scheduler, noise.to(device_), prompt_embeds, negative_embeds,
                     guidance_scale, attention, on_step);
}

at::Tensor WanTextToVideo::decode(const at::Tensor& latents) const {
  return vae_->decode(unnormalize_wan_latents(latents, vae_->config()));
}

}  // namespace sagegen::diffusers
