#include "config/strict_yaml.h"

#include <fmt/format.h>

#include "sagegen/errors.h"

namespace sagegen::config {

YAML::Node parse_document(const std::string& yaml, const std::string& source) {
  try {
    return YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: YAML syntax error: {}", source, e.mark.line + 1, e.msg));
  }
}

namespace {

std::string location(const std::string& source, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return source;
  return fmt::format("{}:{}", source, mark.line + 1);  // yaml-cpp lines are 0-based
}

}  // namespace

StrictMap::StrictMap(const YAML::Node& node, std::string source, std::string path)
    : node_(node), source_(std::move(source)), path_(std::move(path)) {
  if (!node_.IsMap()) {
    throw ConfigError(fmt::format("{}: {}: expected a mapping", location(source_, node_),
                                  path_.empty() ? "<document>" : path_));
  }
}

std::string StrictMap::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void StrictMap::fail(const std::string& key, const std::string& problem) const {
  fail_at(node_, key, problem);
}

void StrictMap::fail_at(const YAML::Node& where, const std::string& key,
                        const std::string& problem) const {
  throw ConfigError(fmt::format("{}: {}: {}", location(source_, where), key_path(key), problem));
}

bool StrictMap::has(const std::string& key) const { return static_cast<bool>(node_[key]); }

YAML::Node StrictMap::optional(const std::string& key) {
  used_.insert(key);
  return node_[key];
}

YAML::Node StrictMap::required(const std::string& key) {
  YAML::Node value = optional(key);
  if (!value || value.IsNull()) fail(key, "missing required key");
  return value;
}

StrictMap StrictMap::child(const std::string& key) {
  return StrictMap(required(key), source_, key_path(key));
}

int StrictMap::required_int(const std::string& key, int min_value) {
  const YAML::Node value = required(key);
  int parsed = 0;
  if (!value.IsScalar() || !YAML::convert<int>::decode(value, parsed)) {
    fail_at(value, key, fmt::format("expected an integer, got '{}'", YAML::Dump(value)));
  }
  if (parsed < min_value) {
    fail_at(value, key, fmt::format("must be >= {}, got {}", min_value, parsed));
  }
  return parsed;
}

double StrictMap::required_double(const std::string& key) {
  const YAML::Node value = required(key);
  double parsed = 0;
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, parsed)) {
    fail_at(value, key, fmt::format("expected a number, got '{}'", YAML::Dump(value)));
  }
  return parsed;
}

std::string StrictMap::required_string(const std::string& key) {
  const YAML::Node value = required(key);
  if (!value.IsScalar()) fail_at(value, key, "expected a string");
  return value.Scalar();
}

std::vector<int> StrictMap::required_int_list(const std::string& key, std::size_t length,
                                              int min_value) {
  const YAML::Node value = required(key);
  if (!value.IsSequence() || value.size() != length) {
    fail_at(value, key, fmt::format("expected a list of {} integers, got '{}'", length,
                                    YAML::Dump(value)));
  }
  std::vector<int> out;
  for (const YAML::Node& item : value) {
    int parsed = 0;
    if (!item.IsScalar() || !YAML::convert<int>::decode(item, parsed) || parsed < min_value) {
      fail_at(item, key, fmt::format("expected integers >= {}, got '{}'", min_value,
                                     YAML::Dump(value)));
    }
    out.push_back(parsed);
  }
  return out;
}

void StrictMap::reject_unknown_keys() const {
  for (const auto& entry : node_) {
    const std::string key = entry.first.as<std::string>();
    if (used_.count(key) == 0) fail_at(entry.first, key, "unknown key");
  }
}

}  // namespace sagegen::config
