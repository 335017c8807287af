// The UMT5 text encoder of Wan2.1 (transformers UMT5EncoderModel), sub-module for sub-module, so
// named_parameters() are the checkpoint's tensor names: shared (token embedding),
// encoder.block.{i}.layer.0 (layer_norm, SelfAttention q/k/v/o without bias and its own
// relative_attention_bias, as UMT5 gives every layer one), encoder.block.{i}.layer.1 (layer_norm,
// DenseReluDense wi_0/wi_1/wo: gated GELU(tanh)), encoder.final_layer_norm. RMS norms without
// mean or bias; attention scores are not scaled (T5 folds the scale into its weights).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/models/layers.h"

namespace sagegen::models {

struct Umt5Config {
  int vocab_size = 0;
  int d_model = 0;
  int d_kv = 0;  // per head
  int d_ff = 0;
  int num_layers = 0;
  int num_heads = 0;
  int relative_attention_num_buckets = 32;
  int relative_attention_max_distance = 128;
  double eps = 1e-6;  // layer_norm_epsilon
};

// T5's bidirectional relative position buckets [L_q, L_k] (int64) for key - query offsets:
// half the buckets for keys after the query; within each half, exact offsets below
// num_buckets / 4, logarithmic bins up to max_distance, the last bin beyond.
at::Tensor relative_position_buckets(std::int64_t query_length, std::int64_t key_length,
                                     int num_buckets, int max_distance);

class Umt5Attention : public torch::nn::Module {
 public:
  Umt5Attention(const Umt5Config& config, const at::TensorOptions& options);
  // x [B, L, d_model]; key_bias [B, 1, 1, L] additive (0 for tokens, lowest for padding).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& key_bias, AttentionContext& attention,
                     int layer_id) const;
  int heads, head_dim, num_buckets, max_distance;
  std::shared_ptr<Linear> q, k, v, o;
  std::shared_ptr<Embedding> relative_attention_bias;  // [buckets, heads]
};

class Umt5Block : public torch::nn::Module {
 public:
  Umt5Block(const Umt5Config& config, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& key_bias, AttentionContext& attention,
                     int layer_id) const;
  std::shared_ptr<RmsNorm> attention_norm;  // layer.0.layer_norm
  std::shared_ptr<Umt5Attention> self_attention;  // layer.0.SelfAttention
  std::shared_ptr<RmsNorm> ffn_norm;  // layer.1.layer_norm
  std::shared_ptr<Linear> wi_0, wi_1, wo;  // layer.1.DenseReluDense
};

class Umt5EncoderModel : public torch::nn::Module {
 public:
  Umt5EncoderModel(const Umt5Config& config, const at::TensorOptions& options);
  // ids [B, L] int64, mask [B, L] (1: token, 0: padding; padded keys are never attended).
  // Returns last_hidden_state [B, L, d_model]. Layer i's attention goes through `attention` as
  // id first_layer_id + i, always full precision (attend_with_bias).
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask, AttentionContext& attention,
                     int first_layer_id) const;
  const Umt5Config& config() const { return config_; }

  std::shared_ptr<Embedding> shared;
  std::vector<std::shared_ptr<Umt5Block>> blocks;
  std::shared_ptr<RmsNorm> final_layer_norm;

 private:
  Umt5Config config_;
};

}  // namespace sagegen::models
