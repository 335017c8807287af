#include "sagegen/models/text_encoder.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <string>

namespace sagegen::models {

TextEncoderLayer::TextEncoderLayer(const TextEncoderConfig& config, double eps,
                                   const at::TensorOptions& options) {
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(config.width, eps, true, options));
  attn = register_module(
      "attn", std::make_shared<WanAttention>(config.width, config.heads, eps, false, options));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(config.width, eps, true, options));
  ffn = register_module("ffn", std::make_shared<FeedForward>(config.width, config.ffn_dim, options));
}

at::Tensor TextEncoderLayer::forward(const at::Tensor& x, AttentionContext& attention,
                                     int layer_id, const at::Tensor& key_bias) const {
  const at::ScalarType dtype = x.scalar_type();
  at::Tensor h = x + attn->forward(norm1->forward(x).to(dtype), at::Tensor(), nullptr, attention,
                                   layer_id, key_bias);
  return h + ffn->forward(norm2->forward(h).to(dtype));
}

TextEncoder::TextEncoder(const TextEncoderConfig& config, std::int64_t vocab_size,
                         std::int64_t max_length_value, double eps,
                         const at::TensorOptions& options)
    : max_length(max_length_value), width(config.width) {
  TORCH_CHECK(vocab_size >= 1, "TextEncoder: vocab_size must be >= 1, got ", vocab_size);
  token_embedding = register_module("token_embedding",
                                    std::make_shared<Embedding>(vocab_size, config.width, options));
  position_embedding = register_module(
      "position_embedding", std::make_shared<Embedding>(max_length, config.width, options));
  auto layer_list = register_module("layers", std::make_shared<ModuleContainer>());
  for (int i = 0; i < config.layers; ++i) {
    layers.push_back(layer_list->add(std::to_string(i),
                                     std::make_shared<TextEncoderLayer>(config, eps, options)));
  }
  norm_out = register_module("norm_out", std::make_shared<LayerNorm>(config.width, eps, true, options));
}

at::Tensor TextEncoder::forward(const at::Tensor& ids, AttentionContext& attention) const {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) <= max_length,
              "TextEncoder: ids must be [B, L] with L <= ", max_length, ", got ", ids.sizes());
  const at::Tensor positions = at::arange(ids.size(1), ids.options());
  at::Tensor h = token_embedding->forward(ids) + position_embedding->forward(positions);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    h = layers[i]->forward(h, attention, first_layer_id + static_cast<int>(i));
  }
  return norm_out->forward(h).to(h.scalar_type());
}

at::Tensor TextEncoder::forward_lengths(const at::Tensor& ids, const at::Tensor& lengths,
                                       AttentionContext& attention) const {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) <= max_length && lengths.dim() == 1 &&
                  lengths.size(0) == ids.size(0),
              "TextEncoder::forward_lengths: ids must be [B, L] with L <= ", max_length,
              " and lengths [B], got ", ids.sizes(), " and ", lengths.sizes());
  const std::int64_t batch = ids.size(0);
  const std::int64_t length = ids.size(1);
  const at::Tensor positions = at::arange(length, ids.options());
  const at::Tensor valid = positions.unsqueeze(0) < lengths.unsqueeze(1);  // [B, L]
  // Padded keys get -inf, so a real token attends only to its own prompt's tokens; the padded
  // positions' own outputs are zeroed at the end (they attend to real keys, so stay finite).
  const at::Tensor key_bias =
      at::zeros({batch, 1, 1, length}, token_embedding->weight.options().dtype(at::kFloat))
          .masked_fill(valid.logical_not().view({batch, 1, 1, length}),
                       -std::numeric_limits<float>::infinity());
  at::Tensor h = token_embedding->forward(ids) + position_embedding->forward(positions);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    h = layers[i]->forward(h, attention, first_layer_id + static_cast<int>(i), key_bias);
  }
  const at::Tensor out = norm_out->forward(h).to(h.scalar_type());
  return out * valid.unsqueeze(-1).to(out.scalar_type());
}

at::Tensor TextEncoder::encode_padded(const std::vector<std::int64_t>& ids,
                                      AttentionContext& attention) const {
  const at::TensorOptions options = token_embedding->weight.options();
  at::Tensor padded = at::zeros({1, max_length, width}, options);
  const std::int64_t length = std::min<std::int64_t>(static_cast<std::int64_t>(ids.size()), max_length);
  if (length == 0) return padded;  // an empty prompt conditions on zeros only
  const at::Tensor id_tensor =
      at::tensor(std::vector<std::int64_t>(ids.begin(), ids.begin() + length), at::kLong)
          .to(options.device())
          .unsqueeze(0);
  padded.slice(1, 0, length).copy_(forward(id_tensor, attention));
  return padded;
}

}  // namespace sagegen::models
