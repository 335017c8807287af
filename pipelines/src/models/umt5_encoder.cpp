#include "sagegen/models/umt5_encoder.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <string>

namespace sagegen::models {

at::Tensor relative_position_buckets(std::int64_t query_length, std::int64_t key_length,
                                     int num_buckets, int max_distance) {
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  const at::Tensor relative =
      at::arange(key_length, i64).unsqueeze(0) - at::arange(query_length, i64).unsqueeze(1);
  const int half = num_buckets / 2;  // bidirectional: keys after the query get the upper half
  at::Tensor buckets = (relative > 0).to(at::kLong) * half;
  const at::Tensor distance = relative.abs();
  const int max_exact = half / 2;
  // As transformers computes it: float32 log ratio, truncated toward zero.
  const at::Tensor log_ratio = at::log(distance.to(at::kFloat) / max_exact) /
                               static_cast<float>(std::log(static_cast<double>(max_distance) /
                                                           max_exact)) *
                               static_cast<float>(half - max_exact);
  const at::Tensor if_large = at::clamp_max(log_ratio.to(at::kLong) + max_exact, half - 1);
  return buckets + at::where(distance < max_exact, distance, if_large);
}

Umt5Attention::Umt5Attention(const Umt5Config& config, const at::TensorOptions& options)
    : heads(config.num_heads),
      head_dim(config.d_kv),
      num_buckets(config.relative_attention_num_buckets),
      max_distance(config.relative_attention_max_distance) {
  const int inner = config.num_heads * config.d_kv;
  q = register_module("q", std::make_shared<Linear>(config.d_model, inner, options, false));
  k = register_module("k", std::make_shared<Linear>(config.d_model, inner, options, false));
  v = register_module("v", std::make_shared<Linear>(config.d_model, inner, options, false));
  o = register_module("o", std::make_shared<Linear>(inner, config.d_model, options, false));
  relative_attention_bias = register_module(
      "relative_attention_bias", std::make_shared<Embedding>(num_buckets, heads, options));
}

at::Tensor Umt5Attention::forward(const at::Tensor& x, const at::Tensor& key_bias,
                                  AttentionContext& attention, int layer_id) const {
  const std::int64_t length = x.size(1);
  const at::Tensor buckets =
      relative_position_buckets(length, length, num_buckets, max_distance).to(x.device());
  // [1, H, L, L] position bias + [B, 1, 1, L] padding bias.
  const at::Tensor bias =
      relative_attention_bias->forward(buckets).permute({2, 0, 1}).unsqueeze(0) + key_bias;
  const at::Tensor qh = q->forward(x).unflatten(2, {heads, head_dim});  // [B, L, H, D]
  const at::Tensor kh = k->forward(x).unflatten(2, {heads, head_dim});
  const at::Tensor vh = v->forward(x).unflatten(2, {heads, head_dim});
  const at::Tensor out = attention.attend_with_bias(qh, kh, vh, bias, layer_id, /*scale=*/1.0);
  return o->forward(out.flatten(2));
}

Umt5Block::Umt5Block(const Umt5Config& config, const at::TensorOptions& options) {
  auto layers = register_module("layer", std::make_shared<ModuleContainer>());
  auto attn_layer = layers->add("0", std::make_shared<ModuleContainer>());
  attention_norm = attn_layer->add("layer_norm",
                                   std::make_shared<RmsNorm>(config.d_model, config.eps, options));
  self_attention =
      attn_layer->add("SelfAttention", std::make_shared<Umt5Attention>(config, options));
  auto ffn_layer = layers->add("1", std::make_shared<ModuleContainer>());
  ffn_norm =
      ffn_layer->add("layer_norm", std::make_shared<RmsNorm>(config.d_model, config.eps, options));
  auto dense = ffn_layer->add("DenseReluDense", std::make_shared<ModuleContainer>());
  wi_0 = dense->add("wi_0", std::make_shared<Linear>(config.d_model, config.d_ff, options, false));
  wi_1 = dense->add("wi_1", std::make_shared<Linear>(config.d_model, config.d_ff, options, false));
  wo = dense->add("wo", std::make_shared<Linear>(config.d_ff, config.d_model, options, false));
}

at::Tensor Umt5Block::forward(const at::Tensor& x, const at::Tensor& key_bias,
                              AttentionContext& attention, int layer_id) const {
  at::Tensor h = x + self_attention->forward(attention_norm->forward(x), key_bias, attention,
                                             layer_id);
  const at::Tensor normed = ffn_norm->forward(h);
  const at::Tensor gated = at::gelu(wi_0->forward(normed), "tanh") * wi_1->forward(normed);
  return h + wo->forward(gated);
}

Umt5EncoderModel::Umt5EncoderModel(const Umt5Config& config, const at::TensorOptions& options)
    : config_(config) {
  shared = register_module("shared",
                           std::make_shared<Embedding>(config.vocab_size, config.d_model, options));
  auto encoder = register_module("encoder", std::make_shared<ModuleContainer>());
  auto block_list = encoder->add("block", std::make_shared<ModuleContainer>());
  for (int i = 0; i < config.num_layers; ++i) {
    blocks.push_back(
        block_list->add(std::to_string(i), std::make_shared<Umt5Block>(config, options)));
  }
  final_layer_norm = encoder->add("final_layer_norm",
                                  std::make_shared<RmsNorm>(config.d_model, config.eps, options));
}

at::Tensor Umt5EncoderModel::forward(const at::Tensor& ids, const at::Tensor& mask,
                                     AttentionContext& attention, int first_layer_id) const {
  TORCH_CHECK(ids.dim() == 2 && mask.sizes() == ids.sizes(),
              "Umt5EncoderModel: ids and mask must be [B, L] alike, got ", ids.sizes(), " and ",
              mask.sizes());
  const at::ScalarType dtype = shared->weight.scalar_type();
  // Padding keys get the dtype's lowest value, as transformers does (not -inf: a row of padding
  // must not become NaN).
  const double lowest = dtype == at::kHalf       ? -65504.0
                        : dtype == at::kBFloat16 ? -3.3895313892515355e38
                                                 : std::numeric_limits<float>::lowest();
  const at::Tensor key_bias = at::where(mask.to(at::kBool), 0.0, lowest)
                                  .to(dtype)
                                  .view({ids.size(0), 1, 1, ids.size(1)});
  at::Tensor h = shared->forward(ids);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    h = blocks[i]->forward(h, key_bias, attention, first_layer_id + static_cast<int>(i));
  }
  return final_layer_norm->forward(h);
}

}  // namespace sagegen::models
