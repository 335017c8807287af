#include "sagegen/diffusers/umt5_text_encoder.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <set>

#include "sagegen/diffusers/component_weights.h"
#include "sagegen/diffusers/json_config.h"
#include "sagegen/models/weights.h"

namespace sagegen::diffusers {

models::Umt5Config read_umt5_config(const std::filesystem::path& config_json) {
  JsonConfig json = JsonConfig::load(config_json);
  json.expect("model_type", "umt5", "the encoder of Wan2.1's umT5-XXL");
  if (json.has("architectures")) {
    json.expect("architectures", nlohmann::json::array({"UMT5EncoderModel"}),
                "the encoder alone, as Wan folders ship it");
  }
  models::Umt5Config config;
  config.vocab_size = json.integer("vocab_size");
  config.d_model = json.integer("d_model");
  config.d_kv = json.integer("d_kv");
  config.d_ff = json.integer("d_ff");
  config.num_layers = json.integer("num_layers");
  config.num_heads = json.integer("num_heads");
  config.relative_attention_num_buckets = json.integer_or("relative_attention_num_buckets", 32);
  config.relative_attention_max_distance =
      json.integer_or("relative_attention_max_distance", 128);
  config.eps = json.number_or("layer_norm_epsilon", 1e-6);
  for (const char* key : {"vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_heads"}) {
    if (json.value(key).get<int>() < 1) json.fail(key, "must be >= 1");
  }
  if (config.relative_attention_num_buckets < 4 || config.relative_attention_num_buckets % 4 != 0) {
    json.fail("relative_attention_num_buckets", "must be a multiple of 4 (bidirectional buckets)");
  }
  if (config.relative_attention_max_distance <= config.relative_attention_num_buckets / 4) {
    json.fail("relative_attention_max_distance", "must exceed relative_attention_num_buckets / 4");
  }
  if (!(config.eps > 0)) json.fail("layer_norm_epsilon", "must be > 0");
  json.expect("feed_forward_proj", "gated-gelu", "umT5's gated GELU feed-forward");
  json.expect("dense_act_fn", "gelu_new", "GELU with the tanh approximation");
  json.expect("is_gated_act", true, "umT5's gated GELU feed-forward");
  json.expect("is_decoder", false, "the encoder");
  // Training, generation and storage settings: no effect on the encoder's output.
  json.ignore({"classifier_dropout", "dropout_rate", "initializer_factor", "decoder_start_token_id",
               "eos_token_id", "pad_token_id", "is_encoder_decoder", "num_decoder_layers",
               "tie_word_embeddings", "use_cache", "output_past", "torch_dtype", "dtype",
               "tokenizer_class", "scalable_attention"});
  json.finish();
  return config;
}

std::shared_ptr<models::Umt5EncoderModel> load_umt5_encoder(const std::filesystem::path& dir,
                                                            const at::TensorOptions& options) {
  const models::Umt5Config config = read_umt5_config(dir / "config.json");
  auto model = std::make_shared<models::Umt5EncoderModel>(config, options);
  std::map<std::string, at::Tensor> parameters;
  models::collect_parameters(*model, "", parameters);
  // The encoder's token embedding is the shared one (transformers ties them): a checkpoint may
  // hold it as shared.weight, encoder.embed_tokens.weight or both (then one storage takes both,
  // shared.weight last).
  const std::set<std::string> names = component_tensor_names(dir, "model");
  constexpr const char* kEncoderEmbedding = "encoder.embed_tokens.weight";
  if (names.count(kEncoderEmbedding) != 0) {
    parameters[kEncoderEmbedding] = model->shared->weight;
    if (names.count("shared.weight") == 0) parameters.erase("shared.weight");
  }
  load_component_weights(parameters, dir, "model");
  return model;
}

at::Tensor wan_prompt_embeddings(const models::Umt5EncoderModel& encoder, const at::Tensor& ids,
                                 const at::Tensor& mask, AttentionContext& attention,
                                 int first_layer_id, int text_length) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) <= text_length, "wan_prompt_embeddings: ids must be ",
              "[B, L] with L <= ", text_length, ", got ", ids.sizes());
  const at::Tensor hidden = encoder.forward(ids, mask, attention, first_layer_id);  // [B, L, C]
  const at::Tensor keep = (at::arange(ids.size(1), ids.options().dtype(at::kLong)).unsqueeze(0) <
                           mask.gt(0).sum(1, /*keepdim=*/true))
                              .unsqueeze(-1);  // [B, L, 1]: inside each prompt's length
  const at::Tensor kept = hidden * keep.to(hidden.scalar_type());
  return at::constant_pad_nd(kept, {0, 0, 0, text_length - ids.size(1)});
}

}  // namespace sagegen::diffusers
