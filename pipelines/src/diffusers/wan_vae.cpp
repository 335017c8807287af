#include "sagegen/diffusers/wan_vae.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sagegen/diffusers/component_weights.h"
#include "sagegen/diffusers/json_config.h"
#include "sagegen/errors.h"
#include "sagegen/models/weights.h"

namespace sagegen::diffusers {
namespace {

std::vector<double> numbers(JsonConfig& json, const std::string& key, std::size_t count) {
  const nlohmann::json& value = json.value(key);
  if (!value.is_array() || value.size() != count) {
    json.fail(key, fmt::format("expected a list of {} numbers (one per latent channel)", count));
  }
  std::vector<double> out;
  for (const nlohmann::json& item : value) {
    if (!item.is_number()) json.fail(key, "expected numbers");
    out.push_back(item.get<double>());
  }
  return out;
}

bool is_encoder_tensor(const std::string& name) {
  return name.rfind("encoder.", 0) == 0 || name.rfind("quant_conv.", 0) == 0;
}

}  // namespace

models::WanVaeConfig read_wan_vae_config(const std::filesystem::path& config_json) {
  JsonConfig json = JsonConfig::load(config_json);
  json.expect_class({"AutoencoderKLWan"});
  models::WanVaeConfig config;
  // Defaults are AutoencoderKLWan.__init__'s.
  const int base_dim = json.integer_or("base_dim", 96);
  config.base_dim = json.integer_or_null("decoder_base_dim").value_or(base_dim);
  config.z_dim = json.integer_or("z_dim", 16);
  config.dim_mult = json.integers_or("dim_mult", {1, 2, 4, 4});
  config.num_res_blocks = json.integer_or("num_res_blocks", 2);
  config.out_channels = json.integer_or("out_channels", 3);
  if (base_dim < 1 || config.base_dim < 1) json.fail("base_dim", "must be >= 1");
  if (config.z_dim < 1) json.fail("z_dim", "must be >= 1");
  if (config.num_res_blocks < 0) json.fail("num_res_blocks", "must be >= 0");
  if (config.out_channels < 1) json.fail("out_channels", "must be >= 1");
  if (config.dim_mult.size() < 2 ||
      std::any_of(config.dim_mult.begin(), config.dim_mult.end(), [](int m) { return m < 1; })) {
    json.fail("dim_mult", "expected at least 2 positive integers");
  }
  if (json.has("temperal_downsample")) {
    const nlohmann::json& value = json.value("temperal_downsample");
    if (!value.is_array() || value.size() != config.dim_mult.size() - 1 ||
        !std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_boolean(); })) {
      json.fail("temperal_downsample", fmt::format("expected {} booleans (one per dim_mult step)",
                                                   config.dim_mult.size() - 1));
    }
    config.temporal_downsample.assign(value.begin(), value.end());
  } else if (config.dim_mult.size() != 4) {
    json.fail("temperal_downsample",
              "missing, and the default [false, true, true] fits 4 "
              "dim_mult entries only");
  }
  if (json.has("latents_mean") || json.has("latents_std") || config.z_dim != 16) {
    config.latents_mean = numbers(json, "latents_mean", static_cast<std::size_t>(config.z_dim));
    config.latents_std = numbers(json, "latents_std", static_cast<std::size_t>(config.z_dim));
  } else {
    // AutoencoderKLWan's defaults (Wan 2.1's statistics).
    config.latents_mean = {-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,  -0.1517, 1.5508,
                           0.4134,  -0.0715, 0.5517,  -0.3632, -0.1922, -0.9497, 0.2503,  -0.2921};
    config.latents_std = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                          3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160};
  }
  for (const double s : config.latents_std) {
    if (!(s > 0)) json.fail("latents_std", "every entry must be > 0");
  }
  json.expect("is_residual", false, "Wan 2.1's VAE; the residual VAE is Wan 2.2's");
  json.expect("patch_size", nullptr, "Wan 2.1's VAE decodes without patching");
  const int temporal = json.integer_or_null("scale_factor_temporal").value_or(4);
  const int spatial = json.integer_or_null("scale_factor_spatial").value_or(8);
  if (temporal != config.temporal_scale()) {
    json.fail("scale_factor_temporal",
              fmt::format("{} disagrees with temperal_downsample, which gives {}", temporal,
                          config.temporal_scale()));
  }
  if (spatial != config.spatial_scale()) {
    json.fail("scale_factor_spatial", fmt::format("{} disagrees with dim_mult, which gives {}",
                                                  spatial, config.spatial_scale()));
  }
  json.ignore({"in_channels", "dropout", "attn_scales"});
  json.finish();
  return config;
}

std::shared_ptr<models::WanVaeDecoder> load_wan_vae_decoder(const std::filesystem::path& dir,
                                                            const at::TensorOptions& options) {
  const models::WanVaeConfig config = read_wan_vae_config(dir / "config.json");
  auto model = std::make_shared<models::WanVaeDecoder>(config, options);
  std::map<std::string, at::Tensor> parameters;
  models::collect_parameters(*model, "", parameters);
  const std::string base_name = "diffusion_pytorch_model";
  for (const std::string& name : component_tensor_names(dir, base_name)) {
    if (parameters.count(name) == 0 && !is_encoder_tensor(name)) {
      throw ConfigError(
          fmt::format("{}: tensor '{}' is neither the Wan 2.1 VAE decoder's nor its encoder's (is "
                      "config.json this VAE's?)",
                      dir.string(), name));
    }
  }
  load_component_weights(parameters, dir, base_name, io::ExtraTensors::kIgnore);
  return model;
}

at::Tensor unnormalize_wan_latents(const at::Tensor& latents, const models::WanVaeConfig& config) {
  TORCH_CHECK(latents.dim() == 5 && latents.size(1) == config.z_dim,
              "unnormalize_wan_latents: latents must be [B, ", config.z_dim, ", F, H, W], got ",
              latents.sizes());
  const at::TensorOptions options = latents.options().dtype(at::kFloat);
  const at::Tensor mean =
      at::tensor(config.latents_mean, at::kDouble).to(options).view({1, -1, 1, 1, 1});
  const at::Tensor inverse_std =
      1.0 / at::tensor(config.latents_std, at::kDouble).to(options).view({1, -1, 1, 1, 1});
  return latents.to(at::kFloat) / inverse_std + mean;
}

}  // namespace sagegen::diffusers
