#include "sagegen/diffusers/wan_transformer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sagegen/diffusers/component_weights.h"
#include "sagegen/diffusers/json_config.h"
#include "sagegen/models/weights.h"

namespace sagegen::diffusers {

DitConfig read_wan_transformer_config(const std::filesystem::path& config_json) {
  JsonConfig json = JsonConfig::load(config_json);
  json.expect_class({"WanTransformer3DModel"});
  DitConfig config;
  // Defaults are WanTransformer3DModel.__init__'s, for keys an older file leaves out.
  const std::vector<int> patch = json.integers_or("patch_size", {1, 2, 2});
  if (patch.size() != 3 || patch[0] < 1 || patch[1] < 1 || patch[2] < 1) {
    json.fail("patch_size", "expected 3 positive integers [t, h, w]");
  }
  config.patch = Extent3{patch[0], patch[1], patch[2]};
  config.heads = json.integer_or("num_attention_heads", 40);
  config.head_dim = json.integer_or("attention_head_dim", 128);
  if (config.heads < 1) json.fail("num_attention_heads", "must be >= 1");
  if (config.head_dim < 6 || config.head_dim % 2 != 0) {
    json.fail("attention_head_dim", fmt::format("{} cannot be split into Wan's three RoPE axes "
                                                "(must be even and >= 6)", config.head_dim));
  }
  config.width = config.heads * config.head_dim;
  config.in_channels = json.integer_or("in_channels", 16);
  // out_channels null means in_channels (diffusers: out_channels or in_channels).
  config.out_channels = json.integer_or_null("out_channels").value_or(config.in_channels);
  config.text_dim = json.integer_or("text_dim", 4096);
  config.freq_dim = json.integer_or("freq_dim", 256);
  config.ffn_dim = json.integer_or("ffn_dim", 13824);
  config.depth = json.integer_or("num_layers", 40);
  config.eps = json.number_or("eps", 1e-6);
  config.rope_max_positions = json.integer_or("rope_max_seq_len", 1024);
  for (const char* key : {"in_channels", "out_channels", "text_dim", "ffn_dim", "num_layers",
                          "rope_max_seq_len"}) {
    if (json.has(key) && !json.value(key).is_null() && json.value(key).get<int>() < 1) {
      json.fail(key, "must be >= 1");
    }
  }
  if (config.freq_dim < 2 || config.freq_dim % 2 != 0) {
    json.fail("freq_dim", "must be even and >= 2");
  }
  if (!(config.eps > 0)) json.fail("eps", "must be > 0");
  json.expect("cross_attn_norm", true, "Wan2.1 normalises the cross-attention input");
  json.expect("qk_norm", "rms_norm_across_heads", "Wan2.1's Q/K RMS norm over all heads");
  json.expect("image_dim", nullptr, "the image-to-video models are not supported yet");
  json.expect("added_kv_proj_dim", nullptr, "the image-to-video models are not supported yet");
  json.expect("pos_embed_seq_len", nullptr, "the image-to-video models are not supported yet");
  json.finish();
  config.text_length = kWanTextLength;
  config.conditioning = TextConditioning::kCrossAttention;
  return config;
}

std::shared_ptr<models::WanTransformer3DModel> load_wan_transformer(
    const std::filesystem::path& dir, const at::TensorOptions& options) {
  const DitConfig config = read_wan_transformer_config(dir / "config.json");
  auto model = std::make_shared<models::WanTransformer3DModel>(config, options);
  std::map<std::string, at::Tensor> parameters;
  models::collect_parameters(*model, "", parameters);
  load_component_weights(parameters, dir, "diffusion_pytorch_model");
  return model;
}

}  // namespace sagegen::diffusers
