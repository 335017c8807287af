// A strict YAML reader that locates every problem: syntax errors, unknown, duplicate and missing
// keys and bad values all throw strict_yaml::Error naming the file, the line and column and the
// key path ("rules[2].steps", "dit.width"). The adaptive tables (sageattn) and the model,
// training and cost configs (sagegen) read their files through it and turn Error into their
// own exception types, each keeping its message format (docs/tables.md, docs/cli.md).
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace strict_yaml {

// 1-based line and column; line == 0 when the text has no place to point at.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
};

// "file:line:column", or "file" without a line.
std::string to_string(const Location& where);

// what() is "<file>:<line>:<column>: <key>: <problem>" (no "<key>: " when the key is empty).
class Error : public std::runtime_error {
 public:
  Error(Location where, std::string key, std::string problem);
  const Location& where() const { return where_; }
  const std::string& key() const { return key_; }
  const std::string& problem() const { return problem_; }

 private:
  Location where_;
  std::string key_;
  std::string problem_;
};

// Parses a document. A syntax error throws Error with key "" and problem "YAML syntax error:
// ...", with a hint when a tab indents the offending line (yaml-cpp names another cause).
YAML::Node parse_document(std::string_view text, const std::string& source);

// Where `node` stands in `source`; a node yaml-cpp made up (absent or null, not written in the
// file) has no mark of its own, so it points at `parent`.
Location locate(const std::string& source, const YAML::Node& node, const YAML::Node& parent = {});

[[noreturn]] void fail_at(const std::string& source, const YAML::Node& node, const std::string& key,
                          const std::string& problem, const YAML::Node& parent = {});

// For messages: "a list", "a mapping", "nothing" or the quoted scalar.
std::string kind_of(const YAML::Node& node);

// For messages: "a, b, c".
std::string join_names(const std::vector<std::string_view>& names);

// A mapping read key by key. `path` is its dotted key path ("" for the document root); keys in
// errors are full paths. Throws Error when the node is not a mapping.
class StrictMap {
 public:
  StrictMap(const YAML::Node& node, std::string source, std::string path,
            const YAML::Node& parent = {});

  bool has(const std::string& key) const;
  YAML::Node optional(const std::string& key);  // undefined node when absent
  // Absent: "missing required key" at the mapping; written without a value: "has no value" at
  // the key (yaml-cpp would point at the next token, often the next line).
  YAML::Node required(const std::string& key);
  StrictMap child(const std::string& key);  // a required nested mapping

  int required_int(const std::string& key, int min_value);
  double required_double(const std::string& key);
  std::string required_string(const std::string& key);
  std::vector<int> required_int_list(const std::string& key, std::size_t length, int min_value);

  // Keys outside `known` ("unknown key (expected one of: ...)") and keys written twice, at the
  // key; for schemas that list their keys up front (call before reading).
  void check_keys(const std::vector<std::string_view>& known) const;
  // Keys present but never asked for, and keys written twice (call after reading all keys).
  void reject_unknown_keys() const;

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  [[noreturn]] void fail_at(const YAML::Node& where, const std::string& key,
                            const std::string& problem) const;
  std::string key_path(const std::string& key) const;  // "" names the mapping itself
  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node key_node(const std::string& key) const;
  void check_key_names(const std::vector<std::string_view>* known) const;

  YAML::Node node_;
  YAML::Node parent_;
  std::string source_;
  std::string path_;
  std::set<std::string> used_;
};

}  // namespace strict_yaml
