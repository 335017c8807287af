// The vae/ component of a Wan2.1 diffusers folder: AutoencoderKLWan's config.json read strictly,
// its decoder's weights loaded (the encoder's tensors in the file are checked by name and left
// on disk), and the latents' un-normalisation WanPipeline applies before decoding.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include <filesystem>
#include <memory>

#include "sagegen/models/wan_vae.h"

namespace sagegen::diffusers {

// Every key that changes the decode is read (base_dim, decoder_base_dim, z_dim, dim_mult,
// num_res_blocks, temperal_downsample, out_channels, latents_mean/std, and the scale factors,
// which must agree with dim_mult and temperal_downsample). Wan 2.2's VAE (is_residual,
// patch_size) and unknown keys are ConfigErrors naming the file and key. Keys of the encoder
// alone (in_channels) or of training (dropout) and attn_scales (unused by diffusers' Wan
// decoder) are accepted and ignored.
models::WanVaeConfig read_wan_vae_config(const std::filesystem::path& config_json);

// Builds the decoder from dir/config.json in `options` and fills it from the folder's weights.
// Tensors of the file that are neither the decoder's nor the encoder's (encoder.*,
// quant_conv.*) are errors, as are missing or mis-shaped decoder tensors.
std::shared_ptr<models::WanVaeDecoder> load_wan_vae_decoder(const std::filesystem::path& dir,
                                                            const at::TensorOptions& options);

// WanPipeline before vae.decode: latents / (1 / latents_std) + latents_mean per channel, in
// float32 as diffusers computes it. latents [B, z_dim, F, H, W].
at::Tensor unnormalize_wan_latents(const at::Tensor& latents, const models::WanVaeConfig& config);

}  // namespace sagegen::diffusers
