#include "sagegen/models/wan_vae.h"

#include <ATen/ATen.h>

#include <string>

#include "sagegen/models/layers.h"

namespace sagegen::models {

namespace {
using Extent = std::array<std::int64_t, 3>;
}  // namespace

int WanVaeConfig::temporal_scale() const {
  int scale = 1;
  for (const bool down : temporal_downsample) scale *= down ? 2 : 1;
  return scale;
}

VaeUpBlock::VaeUpBlock(std::int64_t in, std::int64_t out, int num_res_blocks, int upsample,
                       const at::TensorOptions& options) {
  auto list = register_module("resnets", std::make_shared<ModuleContainer>());
  for (int i = 0; i <= num_res_blocks; ++i) {
    resnets.push_back(list->add(
        std::to_string(i), std::make_shared<VaeResidualBlock>(i == 0 ? in : out, out, options)));
  }
  if (upsample != 0) {
    auto upsamplers = register_module("upsamplers", std::make_shared<ModuleContainer>());
    // diffusers' Resample halves the width (upsample_out_dim = dim / 2).
    upsampler =
        upsamplers->add("0", std::make_shared<VaeUpsample>(out, out / 2, upsample == 3, options));
  }
}

at::Tensor VaeUpBlock::forward(const at::Tensor& input, CausalCache& cache) const {
  at::Tensor x = input;
  for (const auto& resnet : resnets) x = resnet->forward(x, cache);
  return upsampler ? upsampler->forward(x, cache) : x;
}

WanVaeDecoder::WanVaeDecoder(const WanVaeConfig& config, const at::TensorOptions& options)
    : config_(config) {
  const std::int64_t z = config.z_dim;
  post_quant_conv = register_module(
      "post_quant_conv",
      std::make_shared<CausalConv3d>(z, z, Extent{1, 1, 1}, Extent{0, 0, 0}, options));
  auto decoder = register_module("decoder", std::make_shared<ModuleContainer>());
  // Widths: base * [last mult, mults reversed...]; blocks after the first take half the
  // previous width, since each upsampler halves it (Wan 2.1; Wan 2.2's residual VAE differs).
  std::vector<std::int64_t> dims = {static_cast<std::int64_t>(config.base_dim) *
                                    config.dim_mult.back()};
  for (auto it = config.dim_mult.rbegin(); it != config.dim_mult.rend(); ++it) {
    dims.push_back(static_cast<std::int64_t>(config.base_dim) * *it);
  }
  conv_in = decoder->add("conv_in", std::make_shared<CausalConv3d>(z, dims[0], Extent{3, 3, 3},
                                                                   Extent{1, 1, 1}, options));
  auto mid = decoder->add("mid_block", std::make_shared<ModuleContainer>());
  auto mid_resnets = mid->add("resnets", std::make_shared<ModuleContainer>());
  mid_resnet0 =
      mid_resnets->add("0", std::make_shared<VaeResidualBlock>(dims[0], dims[0], options));
  mid_resnet1 =
      mid_resnets->add("1", std::make_shared<VaeResidualBlock>(dims[0], dims[0], options));
  auto mid_attentions = mid->add("attentions", std::make_shared<ModuleContainer>());
  mid_attention = mid_attentions->add("0", std::make_shared<VaeAttentionBlock>(dims[0], options));

  auto blocks = decoder->add("up_blocks", std::make_shared<ModuleContainer>());
  const std::size_t count = config.dim_mult.size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t in = i > 0 ? dims[i] / 2 : dims[i];
    int upsample = 0;
    if (i + 1 != count) {
      // The decoder's temporal upsamplings are the encoder's downsamplings reversed.
      upsample = config.temporal_downsample[count - 2 - i] ? 3 : 2;
    }
    up_blocks.push_back(blocks->add(
        std::to_string(i),
        std::make_shared<VaeUpBlock>(in, dims[i + 1], config.num_res_blocks, upsample, options)));
  }
  norm_out = decoder->add("norm_out", std::make_shared<VaeRmsNorm>(dims.back(), false, options));
  conv_out = decoder->add(
      "conv_out", std::make_shared<CausalConv3d>(dims.back(), config.out_channels, Extent{3, 3, 3},
                                                 Extent{1, 1, 1}, options));
}

at::Tensor WanVaeDecoder::decode_chunk(const at::Tensor& chunk, CausalCache& cache) const {
  cache.rewind();
  at::Tensor x = conv_in->forward_cached(chunk, cache);
  x = mid_resnet0->forward(x, cache);
  x = mid_attention->forward(x);
  x = mid_resnet1->forward(x, cache);
  for (const auto& block : up_blocks) x = block->forward(x, cache);
  return conv_out->forward_cached(at::silu(norm_out->forward(x)), cache);
}

at::Tensor WanVaeDecoder::decode(const at::Tensor& z) const {
  TORCH_CHECK(z.dim() == 5 && z.size(1) == config_.z_dim, "WanVaeDecoder::decode: z must be [B, ",
              config_.z_dim, ", F, H, W], got ", z.sizes());
  const at::Tensor x = post_quant_conv->forward(z.to(post_quant_conv->weight.scalar_type()));
  CausalCache cache;
  std::vector<at::Tensor> frames;
  frames.reserve(static_cast<std::size_t>(x.size(2)));
  for (std::int64_t i = 0; i < x.size(2); ++i) {
    frames.push_back(decode_chunk(x.slice(2, i, i + 1), cache));
  }
  return at::cat(frames, 2).clamp(-1.0, 1.0);
}

}  // namespace sagegen::models
