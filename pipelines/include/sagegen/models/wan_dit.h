// A DiT whose blocks follow Wan2.1 (diffusers WanTransformer3DModel), with the same sub-module
// names, so named_parameters() match a Wan checkpoint's tensor names and loading is a lookup.
// Joint-attention configs (FLUX-shaped) drop attn2/norm2 and run self-attention over
// [text tokens; video tokens] instead.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/model_config.h"
#include "sagegen/models/attention.h"
#include "sagegen/models/layers.h"

namespace sagegen::models {

// condition_embedder: sinusoidal timestep features (timesteps_proj, no parameters) ->
// time_embedder (linear_1, SiLU, linear_2) = temb; time_proj(SiLU(temb)) = 6 modulation
// vectors; text_embedder (linear_1, GELU(tanh), linear_2) projects text to the model width.
class WanConditionEmbedder : public torch::nn::Module {
 public:
  WanConditionEmbedder(const DitConfig& config, const at::TensorOptions& options);

  struct Output {
    at::Tensor temb;           // [B, C]
    at::Tensor timestep_proj;  // [B, 6, C]
    at::Tensor text;           // [B, L_text, C]
  };
  // timestep: [B] in [0, 1000] (Wan's scale: sigma * 1000). text: [B, L_text, text_dim].
  Output forward(const at::Tensor& timestep, const at::Tensor& text) const;

  int freq_dim;
  std::shared_ptr<Linear> time_linear_1, time_linear_2, time_proj, text_linear_1, text_linear_2;
};

// Sinusoidal features [B, dim] as diffusers Timesteps(flip_sin_to_cos=True,
// downscale_freq_shift=0): [cos, sin] of t * 10000^(-j/half).
at::Tensor timestep_features(const at::Tensor& timestep, int dim);

class WanTransformerBlock : public torch::nn::Module {
 public:
  WanTransformerBlock(const DitConfig& config, int block_index, const at::TensorOptions& options);

  // x: [B, L, C] (joint: text tokens first). text: [B, L_text, C] (cross-attention only).
  // ulysses: x and rope hold this rank's shard of the tokens (self-attention gathers heads).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& text,
                     const at::Tensor& timestep_proj, const RopeTables& rope,
                     AttentionContext& attention,
                     const parallel::UlyssesAttention* ulysses = nullptr) const;

  int block_index;
  bool joint;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;  // norm2 (affine) only for cross-attention
  std::shared_ptr<WanAttention> attn1, attn2;      // attn2 only for cross-attention
  std::shared_ptr<FeedForward> ffn;
  at::Tensor scale_shift_table;  // [1, 6, C]
};

class WanTransformer3DModel : public torch::nn::Module {
 public:
  WanTransformer3DModel(const DitConfig& config, const at::TensorOptions& options);

  // x: [B, C_in, F, H, W] with F, H, W multiples of the patch. timestep: [B] in [0, 1000].
  // text: [B, text_length, text_dim]. Returns the velocity [B, C_out, F, H, W] in x's dtype.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timestep, const at::Tensor& text,
                     AttentionContext& attention) const;

  const DitConfig& config() const { return config_; }

  // Splits later forward passes' tokens over `group`'s ranks (Ulysses, parallel/ulysses.h); every
  // rank calls forward with the same inputs and gets the whole output. nullptr: one process.
  void use_sequence_parallel(std::shared_ptr<parallel::ProcessGroup> group);

  at::Tensor patch_weight;  // patch_embedding.weight [C, C_in, pt, ph, pw]
  at::Tensor patch_bias;    // patch_embedding.bias [C]
  std::shared_ptr<WanConditionEmbedder> condition_embedder;
  std::vector<std::shared_ptr<WanTransformerBlock>> blocks;
  std::shared_ptr<LayerNorm> norm_out;
  std::shared_ptr<Linear> proj_out;
  at::Tensor scale_shift_table;  // [1, 2, C]

 private:
  DitConfig config_;
  std::shared_ptr<parallel::ProcessGroup> sequence_group_;
  // RoPE tables by grid, leading tokens and device: built on the CPU (float64 angles) and
  // copied once, instead of a host-to-device copy (a stream synchronisation) every forward.
  mutable std::map<std::string, RopeTables> rope_cache_;
  mutable std::mutex rope_cache_mutex_;
};

}  // namespace sagegen::models
