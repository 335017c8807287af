#include "sagegen/model_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/yaml_errors.h"
#include "sagegen/errors.h"

namespace sagegen {
namespace {

namespace fs = std::filesystem;

std::string resolve_relative(const std::string& value, const std::string& base_dir) {
  const fs::path path(value);
  if (path.is_absolute() || base_dir.empty()) return path.lexically_normal().string();
  return (fs::path(base_dir) / path).lexically_normal().string();
}

Extent3 read_extent(strict_yaml::StrictMap& map, const std::string& key) {
  const std::vector<int> v = map.required_int_list(key, 3, 1);
  return Extent3{v[0], v[1], v[2]};
}

DitConfig read_dit(strict_yaml::StrictMap map) {
  DitConfig dit;
  dit.depth = map.required_int("depth", 1);
  dit.width = map.required_int("width", 1);
  dit.heads = map.required_int("heads", 1);
  dit.head_dim = map.required_int("head_dim", 2);
  dit.ffn_dim = map.required_int("ffn_dim", 1);
  dit.patch = read_extent(map, "patch");
  dit.in_channels = map.required_int("in_channels", 1);
  dit.out_channels = map.required_int("out_channels", 1);
  dit.text_dim = map.required_int("text_dim", 1);
  dit.text_length = map.required_int("text_length", 1);
  if (map.has("freq_dim")) dit.freq_dim = map.required_int("freq_dim", 2);
  if (map.has("eps")) dit.eps = map.required_double("eps");
  if (map.has("rope_theta")) dit.rope_theta = map.required_double("rope_theta");
  if (map.has("conditioning")) {
    const std::string mode = map.required_string("conditioning");
    if (mode == "cross-attention") {
      dit.conditioning = TextConditioning::kCrossAttention;
    } else if (mode == "joint-attention") {
      dit.conditioning = TextConditioning::kJointAttention;
    } else {
      map.fail("conditioning",
               fmt::format("'{}' is not one of: cross-attention, joint-attention", mode));
    }
  }
  if (dit.heads * dit.head_dim != dit.width) {
    map.fail("width", fmt::format("width {} != heads {} * head_dim {}", dit.width, dit.heads,
                                  dit.head_dim));
  }
  // RoPE pairs channels, and Wan gives rows and columns 2*(head_dim/6) channels each.
  if (dit.head_dim % 2 != 0 || dit.head_dim < 6) {
    map.fail("head_dim", fmt::format("must be even and >= 6 for 3-axis RoPE, got {}",
                                     dit.head_dim));
  }
  if (dit.freq_dim % 2 != 0) map.fail("freq_dim", "must be even");
  map.reject_unknown_keys();
  return dit;
}

TextEncoderConfig read_text_encoder(strict_yaml::StrictMap map, const std::string& base_dir) {
  TextEncoderConfig text;
  text.layers = map.required_int("layers", 0);
  text.width = map.required_int("width", 1);
  text.vocab_path = resolve_relative(map.required_string("vocab"), base_dir);
  if (text.layers > 0) {
    text.heads = map.required_int("heads", 1);
    text.ffn_dim = map.required_int("ffn_dim", 1);
    if (text.width % text.heads != 0) {
      map.fail("heads", fmt::format("width {} is not a multiple of heads {}", text.width,
                                    text.heads));
    }
  } else {
    if (map.has("heads")) text.heads = map.required_int("heads", 1);
    if (map.has("ffn_dim")) text.ffn_dim = map.required_int("ffn_dim", 1);
  }
  map.reject_unknown_keys();
  return text;
}

ComputeDType parse_dtype(strict_yaml::StrictMap& map, const std::string& key) {
  const std::string name = map.required_string(key);
  if (name == "float32") return ComputeDType::kFloat32;
  if (name == "bfloat16") return ComputeDType::kBFloat16;
  if (name == "float16") return ComputeDType::kFloat16;
  map.fail(key, fmt::format("'{}' is not one of: float32, bfloat16, float16", name));
}

}  // namespace

std::string to_string(ComputeDType dtype) {
  switch (dtype) {
    case ComputeDType::kFloat32: return "float32";
    case ComputeDType::kBFloat16: return "bfloat16";
    case ComputeDType::kFloat16: return "float16";
  }
  return "?";
}

namespace {

ModelConfig read_model_config(const std::string& yaml, const std::string& source_name,
                              const std::string& base_dir) {
  strict_yaml::StrictMap map(strict_yaml::parse_document(yaml, source_name), source_name, "");
  ModelConfig config;
  config.source_path = source_name;
  config.name = map.required_string("name");

  const std::string space = map.required_string("space");
  if (space == "pixel") {
    config.space = ModelSpace::kPixel;
  } else if (space == "latent") {
    config.space = ModelSpace::kLatent;
    config.latent_scale = read_extent(map, "latent_scale");
  } else {
    map.fail("space", fmt::format("'{}' is not one of: pixel, latent", space));
  }

  config.dit = read_dit(map.child("dit"));
  config.text_encoder = read_text_encoder(map.child("text_encoder"), base_dir);
  if (config.text_encoder.width != config.dit.text_dim) {
    map.fail("text_encoder", fmt::format("width {} != dit.text_dim {}", config.text_encoder.width,
                                         config.dit.text_dim));
  }
  if (config.space == ModelSpace::kPixel && config.dit.in_channels != 3) {
    map.fail("dit", fmt::format("a pixel-space model has in_channels 3 (RGB), got {}",
                                config.dit.in_channels));
  }

  const std::string weights = map.required_string("weights");
  if (weights == "random") {
    config.random_weights = true;
    config.random_seed = static_cast<std::uint64_t>(map.required_int("seed", 0));
  } else {
    config.weights = resolve_relative(weights, base_dir);
    map.optional("seed");  // allowed (ignored) so a config can switch to random and back
  }
  if (map.has("table")) config.table = resolve_relative(map.required_string("table"), base_dir);
  if (map.has("cuda_dtype")) config.cuda_dtype = parse_dtype(map, "cuda_dtype");
  if (map.has("prediction")) {
    const std::string name = map.required_string("prediction");
    if (name == "velocity") {
      config.prediction = Prediction::kVelocity;
    } else if (name == "sample") {
      config.prediction = Prediction::kSample;
    } else {
      map.fail("prediction", fmt::format("'{}' is not one of: velocity, sample", name));
    }
  }
  if (map.has("captions")) {
    config.captions = map.required_string("captions");
    if (config.captions != "shapes-world") {
      map.fail("captions", fmt::format("'{}' is not one of: shapes-world", config.captions));
    }
  }
  if (map.has("default_size")) {
    const std::vector<int> size = map.required_int_list("default_size", 2, 1);
    config.default_width = size[0];
    config.default_height = size[1];
  }
  map.reject_unknown_keys();
  return config;
}

}  // namespace

ModelConfig parse_model_config(const std::string& yaml, const std::string& source_name,
                               const std::string& base_dir) {
  return config::with_config_errors([&] { return read_model_config(yaml, source_name, base_dir); });
}

ModelConfig load_model_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open model config", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_model_config(text.str(), path, fs::path(path).parent_path().string());
}

}  // namespace sagegen
