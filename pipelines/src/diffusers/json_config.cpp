#include "sagegen/diffusers/json_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "sagegen/errors.h"

namespace sagegen::diffusers {
namespace {

// Written by save_pretrained into every config; they say who wrote the file, not what it computes.
const std::vector<std::string> kMetadataKeys = {"_diffusers_version", "_name_or_path",
                                                "_use_default_values", "_commit_hash",
                                                "transformers_version"};

// A JSON value for a message, shortened: configs hold long lists (latents_mean).
std::string shown(const nlohmann::json& value) {
  std::string text = value.dump();
  constexpr std::size_t kMaxShown = 80;
  if (text.size() > kMaxShown) text = text.substr(0, kMaxShown) + "...";
  return text;
}

bool is_int(const nlohmann::json& value) {
  if (!value.is_number_integer()) return false;
  const auto v = value.get<std::int64_t>();
  return v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max();
}

}  // namespace

JsonConfig::JsonConfig(std::shared_ptr<const nlohmann::json> json, std::string source)
    : json_(std::move(json)), source_(std::move(source)) {
  for (const std::string& key : kMetadataKeys) consumed_.insert(key);
}

JsonConfig JsonConfig::load(const std::filesystem::path& path) {
  std::ifstream stream(path);
  if (!stream) {
    throw ConfigError(fmt::format("{}: cannot read: {}", path.string(),
                                  std::filesystem::exists(path) ? "not readable" : "no such file"));
  }
  const std::string text{std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
  return parse(text, path.string());
}

JsonConfig JsonConfig::parse(const std::string& text, const std::string& source) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("{}: not JSON: {}", source, e.what()));
  }
  if (!json.is_object()) {
    throw ConfigError(fmt::format("{}: expected a JSON object, got {}", source, json.type_name()));
  }
  return JsonConfig(std::make_shared<const nlohmann::json>(std::move(json)), source);
}

void JsonConfig::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(fmt::format("{}: {}: {}", source_, key, message));
}

bool JsonConfig::has(const std::string& key) const { return json_->contains(key); }

const nlohmann::json* JsonConfig::find(const std::string& key) {
  consumed_.insert(key);
  const auto it = json_->find(key);
  return it == json_->end() ? nullptr : &*it;
}

std::string JsonConfig::expect_class(const std::vector<std::string>& classes) {
  const nlohmann::json* value = find("_class_name");
  if (value == nullptr) fail("_class_name", "missing required key");
  if (!value->is_string()) fail("_class_name", "expected a string, got " + shown(*value));
  const auto name = value->get<std::string>();
  for (const std::string& c : classes) {
    if (name == c) return name;
  }
  fail("_class_name", fmt::format("{} is not supported here (expected {})", name,
                                  fmt::join(classes, " or ")));
}

int JsonConfig::integer(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) fail(key, "missing required key");
  if (!is_int(*value)) fail(key, "expected an integer, got " + shown(*value));
  return value->get<int>();
}

double JsonConfig::number(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) fail(key, "missing required key");
  if (!value->is_number()) fail(key, "expected a number, got " + shown(*value));
  return value->get<double>();
}

bool JsonConfig::boolean(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) fail(key, "missing required key");
  if (!value->is_boolean()) fail(key, "expected true or false, got " + shown(*value));
  return value->get<bool>();
}

std::string JsonConfig::string(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) fail(key, "missing required key");
  if (!value->is_string()) fail(key, "expected a string, got " + shown(*value));
  return value->get<std::string>();
}

std::vector<int> JsonConfig::integers(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) fail(key, "missing required key");
  if (!value->is_array()) fail(key, "expected a list of integers, got " + shown(*value));
  std::vector<int> out;
  for (const nlohmann::json& item : *value) {
    if (!is_int(item)) fail(key, "expected a list of integers, got " + shown(*value));
    out.push_back(item.get<int>());
  }
  return out;
}

const nlohmann::json& JsonConfig::value(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) fail(key, "missing required key");
  return *value;
}

int JsonConfig::integer_or(const std::string& key, int fallback) {
  return has(key) ? integer(key) : (consumed_.insert(key), fallback);
}

double JsonConfig::number_or(const std::string& key, double fallback) {
  return has(key) ? number(key) : (consumed_.insert(key), fallback);
}

bool JsonConfig::boolean_or(const std::string& key, bool fallback) {
  return has(key) ? boolean(key) : (consumed_.insert(key), fallback);
}

std::string JsonConfig::string_or(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : (consumed_.insert(key), fallback);
}

std::optional<int> JsonConfig::integer_or_null(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!is_int(*value)) fail(key, "expected an integer or null, got " + shown(*value));
  return value->get<int>();
}

std::vector<int> JsonConfig::integers_or(const std::string& key, const std::vector<int>& fallback) {
  return has(key) ? integers(key) : (consumed_.insert(key), fallback);
}

void JsonConfig::expect(const std::string& key, const nlohmann::json& supported,
                        const std::string& why) {
  const nlohmann::json* value = find(key);
  if (value == nullptr || *value == supported) return;
  fail(key, fmt::format("unsupported value {} (sagegen supports {}: {})", shown(*value),
                        shown(supported), why));
}

std::string JsonConfig::one_of(const std::string& key, const std::vector<std::string>& supported,
                               const std::string& fallback) {
  const std::string value = string_or(key, fallback);
  for (const std::string& s : supported) {
    if (value == s) return value;
  }
  fail(key, fmt::format("unsupported value \"{}\" (sagegen supports {})", value,
                        fmt::join(supported, ", ")));
}

void JsonConfig::ignore(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) consumed_.insert(key);
}

void JsonConfig::finish() const {
  for (const auto& item : json_->items()) {
    if (consumed_.count(item.key()) == 0) {
      fail(item.key(), "unknown key (not a setting of the class this file names, or one this "
                       "version of sagegen does not know)");
    }
  }
}

}  // namespace sagegen::diffusers
