#include "sagegen/diffusers/component_weights.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "sagegen/errors.h"
#include "sagegen/io/safetensors_index.h"

namespace sagegen::diffusers {

namespace {

[[noreturn]] void no_weights(const std::filesystem::path& dir, const std::string& base_name) {
  std::error_code error;
  const bool pickled = std::filesystem::exists(dir / (base_name + ".bin"), error) ||
                       std::filesystem::exists(dir / (base_name + ".bin.index.json"), error);
  throw ConfigError(fmt::format(
      "{}: no weights: expected {}.safetensors or {}.safetensors.index.json{}", dir.string(),
      base_name, base_name,
      pickled ? " (the .bin files there are PyTorch pickles, which sagegen does not read; "
                "convert them to safetensors)"
              : ""));
}

}  // namespace

std::set<std::string> component_tensor_names(const std::filesystem::path& dir,
                                             const std::string& base_name) {
  const std::filesystem::path single = dir / (base_name + ".safetensors");
  const std::filesystem::path index = dir / (base_name + ".safetensors.index.json");
  std::error_code error;
  std::set<std::string> names;
  if (std::filesystem::is_regular_file(index, error)) {
    std::ifstream stream(index);
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(stream);
    } catch (const nlohmann::json::exception& e) {
      throw io::SafetensorsError(fmt::format("{}: not JSON: {}", index.string(), e.what()));
    }
    if (!json.is_object() || !json.contains("weight_map") || !json["weight_map"].is_object()) {
      throw io::SafetensorsError(fmt::format(
          "{}: weight_map: missing, or not an object of tensor name -> shard file",
          index.string()));
    }
    for (const auto& item : json["weight_map"].items()) names.insert(item.key());
  } else if (std::filesystem::is_regular_file(single, error)) {
    const io::SafetensorsFile file = io::SafetensorsFile::open(single);
    for (const io::TensorInfo& info : file.tensors()) names.insert(info.name);
  } else {
    no_weights(dir, base_name);
  }
  return names;
}

void load_component_weights(const io::NamedTensors& targets, const std::filesystem::path& dir,
                            const std::string& base_name, io::ExtraTensors extra) {
  io::LoadOptions options;
  options.dtype_conversion = io::DTypeConversion::kConvert;
  options.extra_tensors = extra;
  const std::filesystem::path single = dir / (base_name + ".safetensors");
  const std::filesystem::path index = dir / (base_name + ".safetensors.index.json");
  std::error_code error;
  if (std::filesystem::is_regular_file(index, error)) {
    io::load_into_sharded(targets, index, options);
  } else if (std::filesystem::is_regular_file(single, error)) {
    io::load_into(targets, single, options);
  } else {
    no_weights(dir, base_name);
  }
}

}  // namespace sagegen::diffusers
