#include "sagegen/models/wan_vae_layers.h"

#include <ATen/ATen.h>

#include <cmath>

#include "sagegen/models/layers.h"

namespace sagegen::models {

CausalCache::Slot& CausalCache::next() {
  if (index_ == slots_.size()) slots_.emplace_back();
  return slots_[index_++];
}

at::Tensor frames_to_cache(const at::Tensor& x, const at::Tensor& previous) {
  const std::int64_t frames = x.size(2);
  at::Tensor kept = x.slice(2, std::max<std::int64_t>(frames - kCachedFrames, 0)).clone();
  if (kept.size(2) < kCachedFrames && previous.defined()) {
    kept = at::cat({previous.slice(2, previous.size(2) - 1), kept}, 2);
  }
  return kept;
}

CausalConv3d::CausalConv3d(std::int64_t in, std::int64_t out, std::array<std::int64_t, 3> kernel,
                           std::array<std::int64_t, 3> padding_value,
                           const at::TensorOptions& options)
    : padding(padding_value) {
  weight =
      register_parameter("weight", at::empty({out, in, kernel[0], kernel[1], kernel[2]}, options));
  bias = register_parameter("bias", at::empty({out}, options));
}

at::Tensor CausalConv3d::forward(const at::Tensor& x, const at::Tensor& past) const {
  std::int64_t time_padding = 2 * padding[0];
  at::Tensor input = x;
  if (past.defined() && time_padding > 0) {
    input = at::cat({past.to(x.device()), x}, 2);
    time_padding -= past.size(2);
  }
  // constant_pad_nd lists (left, right) pairs from the last dimension: W, H, then T.
  input =
      at::constant_pad_nd(input, {padding[2], padding[2], padding[1], padding[1], time_padding, 0});
  return at::conv3d(input, weight, bias);
}

at::Tensor CausalConv3d::forward_cached(const at::Tensor& x, CausalCache& cache) const {
  CausalCache::Slot& slot = cache.next();
  at::Tensor next = frames_to_cache(x, slot.frames);
  at::Tensor out = forward(x, slot.frames);
  slot.frames = std::move(next);
  slot.state = CausalCache::State::kFrames;
  return out;
}

VaeRmsNorm::VaeRmsNorm(std::int64_t channels, bool images, const at::TensorOptions& options) {
  gamma = register_parameter("gamma", images ? at::empty({channels, 1, 1}, options)
                                             : at::empty({channels, 1, 1, 1}, options));
}

at::Tensor VaeRmsNorm::forward(const at::Tensor& x) const {
  // F.normalize(x, dim=1): x / max(||x||, 1e-12), in float32 for half inputs.
  const at::Tensor xf = x.scalar_type() == at::kFloat ? x : x.to(at::kFloat);
  const at::Tensor normalized =
      (xf / at::linalg_vector_norm(xf, 2, {1}, /*keepdim=*/true).clamp_min(1e-12))
          .to(x.scalar_type());
  return normalized * std::sqrt(static_cast<double>(gamma.size(0))) * gamma;
}

VaeResidualBlock::VaeResidualBlock(std::int64_t in, std::int64_t out,
                                   const at::TensorOptions& options) {
  norm1 = register_module("norm1", std::make_shared<VaeRmsNorm>(in, false, options));
  conv1 = register_module(
      "conv1", std::make_shared<CausalConv3d>(in, out, std::array<std::int64_t, 3>{3, 3, 3},
                                              std::array<std::int64_t, 3>{1, 1, 1}, options));
  norm2 = register_module("norm2", std::make_shared<VaeRmsNorm>(out, false, options));
  conv2 = register_module(
      "conv2", std::make_shared<CausalConv3d>(out, out, std::array<std::int64_t, 3>{3, 3, 3},
                                              std::array<std::int64_t, 3>{1, 1, 1}, options));
  if (in != out) {
    conv_shortcut = register_module(
        "conv_shortcut",
        std::make_shared<CausalConv3d>(in, out, std::array<std::int64_t, 3>{1, 1, 1},
                                       std::array<std::int64_t, 3>{0, 0, 0}, options));
  }
}

at::Tensor VaeResidualBlock::forward(const at::Tensor& x, CausalCache& cache) const {
  const at::Tensor shortcut = conv_shortcut ? conv_shortcut->forward(x) : x;
  at::Tensor h = conv1->forward_cached(at::silu(norm1->forward(x)), cache);
  h = conv2->forward_cached(at::silu(norm2->forward(h)), cache);
  return h + shortcut;
}

VaeAttentionBlock::VaeAttentionBlock(std::int64_t channels, const at::TensorOptions& options) {
  norm = register_module("norm", std::make_shared<VaeRmsNorm>(channels, true, options));
  auto to_qkv = register_module("to_qkv", std::make_shared<ModuleContainer>());
  qkv_weight =
      to_qkv->register_parameter("weight", at::empty({3 * channels, channels, 1, 1}, options));
  qkv_bias = to_qkv->register_parameter("bias", at::empty({3 * channels}, options));
  auto proj = register_module("proj", std::make_shared<ModuleContainer>());
  proj_weight = proj->register_parameter("weight", at::empty({channels, channels, 1, 1}, options));
  proj_bias = proj->register_parameter("bias", at::empty({channels}, options));
}

at::Tensor VaeAttentionBlock::forward(const at::Tensor& x) const {
  const std::int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
  // [B, C, T, H, W] -> [B * T, C, H, W]
  const at::Tensor frames = x.permute({0, 2, 1, 3, 4}).reshape({b * t, c, h, w});
  const at::Tensor qkv = at::conv2d(norm->forward(frames), qkv_weight, qkv_bias)
                             .reshape({b * t, 1, 3 * c, h * w})
                             .permute({0, 1, 3, 2})
                             .contiguous();  // [B * T, 1, H * W, 3C]
  const std::vector<at::Tensor> parts = qkv.chunk(3, -1);
  const at::Tensor attended = at::scaled_dot_product_attention(parts[0], parts[1], parts[2]);
  const at::Tensor out = at::conv2d(
      attended.squeeze(1).permute({0, 2, 1}).reshape({b * t, c, h, w}), proj_weight, proj_bias);
  return out.view({b, t, c, h, w}).permute({0, 2, 1, 3, 4}) + x;
}

VaeUpsample::VaeUpsample(std::int64_t channels, std::int64_t out, bool temporal,
                         const at::TensorOptions& options) {
  auto resample = register_module("resample", std::make_shared<ModuleContainer>());
  auto conv = resample->add("1", std::make_shared<ModuleContainer>());
  conv_weight = conv->register_parameter("weight", at::empty({out, channels, 3, 3}, options));
  conv_bias = conv->register_parameter("bias", at::empty({out}, options));
  if (temporal) {
    time_conv = register_module(
        "time_conv",
        std::make_shared<CausalConv3d>(channels, 2 * channels, std::array<std::int64_t, 3>{3, 1, 1},
                                       std::array<std::int64_t, 3>{1, 0, 0}, options));
  }
}

at::Tensor VaeUpsample::forward(const at::Tensor& input, CausalCache& cache) const {
  at::Tensor x = input;
  const std::int64_t b = x.size(0), c = x.size(1), h = x.size(3), w = x.size(4);
  if (time_conv) {
    CausalCache::Slot& slot = cache.next();
    if (slot.state == CausalCache::State::kEmpty) {
      // The first chunk (the video's first frame) is not doubled in time.
      slot.state = CausalCache::State::kFirstChunkSeen;
    } else {
      const bool after_first = slot.state == CausalCache::State::kFirstChunkSeen;
      at::Tensor next = x.slice(2, std::max<std::int64_t>(x.size(2) - kCachedFrames, 0)).clone();
      if (next.size(2) < kCachedFrames) {
        // After the first chunk the past is zeros (diffusers pads with zeros, then caches them).
        next = at::cat(
            {after_first ? at::zeros_like(next) : slot.frames.slice(2, slot.frames.size(2) - 1),
             next},
            2);
      }
      x = after_first ? time_conv->forward(x) : time_conv->forward(x, slot.frames);
      slot.frames = std::move(next);
      slot.state = CausalCache::State::kFrames;
      const std::int64_t t = x.size(2);
      // [B, 2C, T, H, W]: the two halves of the channels are frames 2i and 2i + 1.
      x = x.reshape({b, 2, c, t, h, w});
      x = at::stack({x.select(1, 0), x.select(1, 1)}, 3).reshape({b, c, 2 * t, h, w});
    }
  }
  const std::int64_t t = x.size(2);
  at::Tensor frames = x.permute({0, 2, 1, 3, 4}).reshape({b * t, c, h, w});
  // Nearest-exact x2 is each pixel repeated; diffusers upsamples in float32.
  frames = at::_upsample_nearest_exact2d(frames.to(at::kFloat), {2 * h, 2 * w}).to(x.scalar_type());
  frames = at::conv2d(frames, conv_weight, conv_bias, /*stride=*/1, /*padding=*/1);
  return frames.view({b, t, frames.size(1), 2 * h, 2 * w}).permute({0, 2, 1, 3, 4});
}

}  // namespace sagegen::models
