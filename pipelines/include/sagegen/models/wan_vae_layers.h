// Building blocks of Wan2.1's video VAE decoder (diffusers AutoencoderKLWan), with the
// checkpoint's parameter names. Causal 3D convolutions pad only the past in time; decoding runs
// one latent frame at a time and each causal convolution keeps the last frames it saw in a
// CausalCache (diffusers' feat_cache), so a long video never holds all its frames' activations.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <array>
#include <cstdint>
#include <vector>

namespace sagegen::models {

// diffusers' CACHE_T: a 3-frame causal kernel needs the 2 frames before a chunk.
inline constexpr std::int64_t kCachedFrames = 2;

// One slot per cached layer, taken in call order (the same order every chunk); rewind() before
// each chunk. A slot starts empty; the temporal upsampler marks its first chunk instead of
// caching it (diffusers' "Rep").
class CausalCache {
 public:
  enum class State : std::uint8_t { kEmpty, kFirstChunkSeen, kFrames };
  struct Slot {
    State state = State::kEmpty;
    at::Tensor frames;  // [B, C, <= 2, H, W], a copy (never a view of a chunk's activations)
  };
  Slot& next();
  void rewind() { index_ = 0; }

 private:
  std::vector<Slot> slots_;
  std::size_t index_ = 0;
};

// The frames the next chunk needs from this one: the last kCachedFrames of x, completed with
// the newest frame of the previous cache when x is shorter.
at::Tensor frames_to_cache(const at::Tensor& x, const at::Tensor& previous);

// diffusers WanCausalConv3d: weight [out, in, kt, kh, kw]; zero padding of 2 * pad_t frames
// before the input in time (none after), pad_h / pad_w on both sides in space.
class CausalConv3d : public torch::nn::Module {
 public:
  CausalConv3d(std::int64_t in, std::int64_t out, std::array<std::int64_t, 3> kernel,
               std::array<std::int64_t, 3> padding, const at::TensorOptions& options);
  // x [B, C, T, H, W]; `past` (optional): frames before x, which replace that much of the
  // time padding.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& past = {}) const;
  // forward() with the next slot of `cache` as the past, then the slot updated for the next chunk.
  at::Tensor forward_cached(const at::Tensor& x, CausalCache& cache) const;
  at::Tensor weight, bias;
  std::array<std::int64_t, 3> padding;
};

// diffusers WanRMS_norm: x / ||x||_2 over channels (dim 1) * sqrt(C) * gamma, the norm in
// float32. gamma is [C, 1, 1, 1] for video, [C, 1, 1] for images (the attention block).
class VaeRmsNorm : public torch::nn::Module {
 public:
  VaeRmsNorm(std::int64_t channels, bool images, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor gamma;
};

// diffusers WanResidualBlock: shortcut (a 1x1x1 causal conv when the width changes) plus
// norm1 -> SiLU -> conv1 -> norm2 -> SiLU -> conv2 (3x3x3, cached).
class VaeResidualBlock : public torch::nn::Module {
 public:
  VaeResidualBlock(std::int64_t in, std::int64_t out, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x, CausalCache& cache) const;
  std::shared_ptr<VaeRmsNorm> norm1, norm2;
  std::shared_ptr<CausalConv3d> conv1, conv2, conv_shortcut;  // conv_shortcut may be null
};

// diffusers WanAttentionBlock: per frame, single-head self-attention over the H * W positions
// (1x1 conv projections). Runs torch's SDPA directly: it is the VAE's, not the DiT's, so the
// adaptive table has no say, and its head dim (the block's width, 384 in Wan2.1) is beyond
// the quantized kernels.
class VaeAttentionBlock : public torch::nn::Module {
 public:
  VaeAttentionBlock(std::int64_t channels, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x) const;
  std::shared_ptr<VaeRmsNorm> norm;
  at::Tensor qkv_weight, qkv_bias, proj_weight, proj_bias;  // to_qkv, proj (1x1 Conv2d)
};

// diffusers WanResample, the decoder's modes: "upsample2d" (nearest-exact x2 in space, then a
// 3x3 conv to `out` channels) and "upsample3d" (first a causal (3,1,1) conv to twice the
// channels whose halves become two frames each, except for the very first chunk, then as 2d).
class VaeUpsample : public torch::nn::Module {
 public:
  VaeUpsample(std::int64_t channels, std::int64_t out, bool temporal,
              const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x, CausalCache& cache) const;
  at::Tensor conv_weight, conv_bias;        // resample.1
  std::shared_ptr<CausalConv3d> time_conv;  // null for upsample2d
};

}  // namespace sagegen::models
