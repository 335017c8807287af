// The built-in model's text encoder: word tokens -> a small pre-norm transformer -> features of
// width text_dim. Each prompt is encoded at its own length (no padding, so no mask is needed),
// then zero-padded to the DiT's text_length, as Wan pads its UMT5 features.
// Parameter names: token_embedding, position_embedding, layers.{i}.{norm1, attn, norm2, ffn},
// norm_out.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/model_config.h"
#include "sagegen/models/attention.h"
#include "sagegen/models/layers.h"

namespace sagegen::models {

class TextEncoderLayer : public torch::nn::Module {
 public:
  TextEncoderLayer(const TextEncoderConfig& config, double eps, const at::TensorOptions& options);
  // key_bias: [B, 1, 1, L] additive (-inf on padding), or undefined for none.
  at::Tensor forward(const at::Tensor& x, AttentionContext& attention, int layer_id,
                     const at::Tensor& key_bias = at::Tensor()) const;

  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<WanAttention> attn;
  std::shared_ptr<FeedForward> ffn;
};

class TextEncoder : public torch::nn::Module {
 public:
  // max_length: the DiT's text_length (longer prompts are cut, with a warning by the caller).
  TextEncoder(const TextEncoderConfig& config, std::int64_t vocab_size, std::int64_t max_length,
              double eps, const at::TensorOptions& options);

  // ids: [B, L] int64 with L <= max_length. Returns [B, L, width].
  at::Tensor forward(const at::Tensor& ids, AttentionContext& attention) const;

  // A batch of prompts of different lengths in one pass (training): ids [B, L] int64 with
  // L <= max_length, each row's tokens first and anything after them ignored; lengths [B] int64
  // on ids' device, 1 <= lengths <= L. Returns [B, L, width]: row b's first lengths[b]
  // positions equal forward() of those tokens alone (its keys are masked to them), the rest are
  // zero, as encode_padded pads. One forward pass instead of one per distinct length.
  at::Tensor forward_lengths(const at::Tensor& ids, const at::Tensor& lengths,
                             AttentionContext& attention) const;

  // One prompt's token ids -> [1, max_length, width]: encoded, then zero-padded. At most
  // max_length ids are read.
  at::Tensor encode_padded(const std::vector<std::int64_t>& ids, AttentionContext& attention) const;

  std::int64_t max_length;
  std::int64_t width;
  int first_layer_id = 0;  // attention id of layer 0: 2 * DiT depth (attention_context.h)
  std::shared_ptr<Embedding> token_embedding, position_embedding;
  std::vector<std::shared_ptr<TextEncoderLayer>> layers;
  std::shared_ptr<LayerNorm> norm_out;
};

}  // namespace sagegen::models
