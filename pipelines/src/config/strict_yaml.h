// A YAML mapping reader that refuses unknown keys and reports missing ones, naming the file,
// line and the dotted key path. Used by the model config loader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

namespace sagegen::config {

// Parses a YAML document; a syntax error becomes a ConfigError "source:line: YAML syntax error: ...".
YAML::Node parse_document(const std::string& yaml, const std::string& source);

class StrictMap {
 public:
  // `path` is the dotted key path of this mapping ("" for the document root).
  StrictMap(const YAML::Node& node, std::string source, std::string path);

  bool has(const std::string& key) const;
  YAML::Node required(const std::string& key);
  YAML::Node optional(const std::string& key);  // undefined node when absent
  StrictMap child(const std::string& key);      // a required nested mapping

  int required_int(const std::string& key, int min_value);
  double required_double(const std::string& key);
  std::string required_string(const std::string& key);
  std::vector<int> required_int_list(const std::string& key, std::size_t length, int min_value);

  // Throws for every key present but never asked for (call after reading all keys).
  void reject_unknown_keys() const;

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  [[noreturn]] void fail_at(const YAML::Node& where, const std::string& key,
                            const std::string& problem) const;
  std::string key_path(const std::string& key) const;

 private:
  YAML::Node node_;
  std::string source_;
  std::string path_;
  std::set<std::string> used_;
};

}  // namespace sagegen::config
