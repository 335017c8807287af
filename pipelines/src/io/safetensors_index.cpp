#include "sagegen/io/safetensors_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "safetensors_load.h"

namespace sagegen::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& index, const std::string& message) {
  throw SafetensorsError(fmt::format("{}: {}", index.string(), message));
}

// tensor name -> shard file name, as the index lists them.
std::map<std::string, std::string> read_weight_map(const std::filesystem::path& index) {
  std::ifstream stream(index);
  if (!stream) {
    fail(index, std::filesystem::exists(index) ? "cannot open for reading" : "no such file");
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& e) {
    fail(index, fmt::format("not JSON: {}", e.what()));
  }
  if (!json.is_object() || !json.contains("weight_map") || !json["weight_map"].is_object()) {
    fail(index, "weight_map: missing, or not an object of tensor name -> shard file");
  }
  std::map<std::string, std::string> weight_map;
  for (const auto& item : json["weight_map"].items()) {
    if (!item.value().is_string()) {
      fail(index, fmt::format("weight_map: {}: expected a shard file name, got {}", item.key(),
                              item.value().dump()));
    }
    const auto shard = item.value().get<std::string>();
    const std::filesystem::path shard_path(shard);
    if (shard.empty() || shard_path.has_parent_path() || shard == "." || shard == "..") {
      fail(index, fmt::format("weight_map: {}: shard '{}' must be a file name in the index's "
                              "folder", item.key(), shard));
    }
    weight_map.emplace(item.key(), shard);
  }
  if (weight_map.empty()) fail(index, "weight_map: lists no tensor");
  return weight_map;
}

}  // namespace

void load_into_sharded(const NamedTensors& targets, const std::filesystem::path& index_path,
                       const LoadOptions& options) {
  const std::map<std::string, std::string> weight_map = read_weight_map(index_path);
  std::set<std::string> shard_names;
  for (const auto& [tensor, shard] : weight_map) shard_names.insert(shard);

  const std::filesystem::path folder = index_path.parent_path();
  std::vector<SafetensorsFile> shards;
  for (const std::string& name : shard_names) {
    const std::filesystem::path path = folder / name;
    if (!std::filesystem::is_regular_file(path)) {
      fail(index_path, fmt::format("shard '{}' is missing ({} does not exist)", name,
                                   path.string()));
    }
    shards.push_back(SafetensorsFile::open(path, options.read_mode));
  }

  std::vector<std::string> problems;
  for (const SafetensorsFile& shard : shards) {
    const std::string shard_name = shard.path().filename().string();
    for (const TensorInfo& info : shard.tensors()) {
      const auto listed = weight_map.find(info.name);
      if (listed == weight_map.end()) {
        problems.push_back(fmt::format("tensor '{}' of shard {} is not in the index", info.name,
                                       shard_name));
      } else if (listed->second != shard_name) {
        problems.push_back(fmt::format("tensor '{}' is in shard {}, the index says {}", info.name,
                                       shard_name, listed->second));
      }
    }
  }
  for (const auto& [tensor, shard_name] : weight_map) {
    const auto shard = std::find_if(shards.begin(), shards.end(), [&](const SafetensorsFile& s) {
      return s.path().filename().string() == shard_name;
    });
    if (shard->find(tensor) == nullptr) {
      problems.push_back(
          fmt::format("the index puts tensor '{}' in shard {}, which has no such tensor", tensor,
                      shard_name));
    }
  }
  if (!problems.empty()) {
    std::string message =
        fmt::format("{}: index and shards disagree ({} problem(s)):", index_path.string(),
                    problems.size());
    constexpr std::size_t kMaxListed = 20;
    for (std::size_t i = 0; i < problems.size() && i < kMaxListed; ++i) {
      message += "\n  " + problems[i];
    }
    if (problems.size() > kMaxListed) {
      message += fmt::format("\n  ... and {} more", problems.size() - kMaxListed);
    }
    throw SafetensorsError(message);
  }

  std::vector<const SafetensorsFile*> files;
  for (const SafetensorsFile& shard : shards) files.push_back(&shard);
  detail::load_into_files(targets, files, index_path.string(), options);
}

}  // namespace sagegen::io
