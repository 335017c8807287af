// Wan2.1's video VAE decoder (diffusers AutoencoderKLWan's decode path: post_quant_conv, then
// WanDecoder3d), sub-module for sub-module so named_parameters() are the checkpoint's names
// (post_quant_conv.*, decoder.*). The encoder is not built: text-to-video never encodes.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <vector>

#include "sagegen/models/wan_vae_layers.h"

namespace sagegen::models {

struct WanVaeConfig {
  int base_dim = 96;  // decoder_base_dim when the config sets it, else base_dim
  int z_dim = 16;
  std::vector<int> dim_mult = {1, 2, 4, 4};
  int num_res_blocks = 2;
  // Of the encoder's downsamplings (config temperal_downsample); the decoder upsamples in time
  // where this, reversed, is true.
  std::vector<bool> temporal_downsample = {false, true, true};
  int out_channels = 3;
  std::vector<double> latents_mean, latents_std;  // z_dim each

  int spatial_scale() const { return 1 << (static_cast<int>(dim_mult.size()) - 1); }
  int temporal_scale() const;
  // Video frames from latent frames: the first latent frame is one frame, each next one
  // temporal_scale() frames.
  std::int64_t video_frames(std::int64_t latent_frames) const {
    return 1 + (latent_frames - 1) * temporal_scale();
  }
};

// diffusers WanUpBlock: num_res_blocks + 1 residual blocks, then an optional upsampler.
class VaeUpBlock : public torch::nn::Module {
 public:
  VaeUpBlock(std::int64_t in, std::int64_t out, int num_res_blocks, int upsample /*0, 2, 3*/,
             const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x, CausalCache& cache) const;
  std::vector<std::shared_ptr<VaeResidualBlock>> resnets;
  std::shared_ptr<VaeUpsample> upsampler;  // upsamplers.0; null for the last block
};

class WanVaeDecoder : public torch::nn::Module {
 public:
  WanVaeDecoder(const WanVaeConfig& config, const at::TensorOptions& options);
  // AutoencoderKLWan.decode: z [B, z_dim, F, H, W] (already un-normalised: see
  // diffusers::unnormalize_wan_latents) -> video [B, out_channels, video_frames(F), H * s, W * s]
  // clamped to [-1, 1], s = spatial_scale(). Decodes one latent frame at a time with a fresh
  // CausalCache, as diffusers does, in the parameters' dtype.
  at::Tensor decode(const at::Tensor& z) const;
  const WanVaeConfig& config() const { return config_; }

  std::shared_ptr<CausalConv3d> post_quant_conv;
  // decoder.*
  std::shared_ptr<CausalConv3d> conv_in;
  std::shared_ptr<VaeResidualBlock> mid_resnet0, mid_resnet1;
  std::shared_ptr<VaeAttentionBlock> mid_attention;
  std::vector<std::shared_ptr<VaeUpBlock>> up_blocks;
  std::shared_ptr<VaeRmsNorm> norm_out;
  std::shared_ptr<CausalConv3d> conv_out;

 private:
  at::Tensor decode_chunk(const at::Tensor& x, CausalCache& cache) const;
  WanVaeConfig config_;
};

}  // namespace sagegen::models
