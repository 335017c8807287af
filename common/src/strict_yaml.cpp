#include "strict_yaml/strict_yaml.h"

#include <utility>

namespace strict_yaml {
namespace {

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// yaml-cpp reports a tab used for indentation as some other error ("illegal block entry"):
// the hint names the real cause.
bool leading_whitespace_has_tab(std::string_view text, int line_index) {
  std::size_t begin = 0;
  for (int line = 0; line < line_index; ++line) {
    begin = text.find('\n', begin);
    if (begin == std::string_view::npos) return false;
    ++begin;
  }
  for (std::size_t i = begin; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i) {
    if (text[i] == '\t') return true;
  }
  return false;
}

}  // namespace

std::string to_string(const Location& where) {
  if (where.line <= 0) return where.file;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

Error::Error(Location where, std::string key, std::string problem)
    : std::runtime_error(to_string(where) + ": " + (key.empty() ? "" : key + ": ") + problem),
      where_(std::move(where)),
      key_(std::move(key)),
      problem_(std::move(problem)) {}

YAML::Node parse_document(std::string_view text, const std::string& source) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    Location where{source};
    bool tab_indent = false;
    if (!e.mark.is_null()) {
      where = {source, e.mark.line + 1, e.mark.column + 1};
      tab_indent = leading_whitespace_has_tab(text, e.mark.line);
    }
    throw Error(where, "",
                "YAML syntax error: " + e.msg +
                    (tab_indent ? " (tabs cannot indent YAML: use spaces)" : ""));
  }
}

Location locate(const std::string& source, const YAML::Node& node, const YAML::Node& parent) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) mark = parent.Mark();
  if (mark.is_null()) return {source};
  return {source, mark.line + 1, mark.column + 1};
}

void fail_at(const std::string& source, const YAML::Node& node, const std::string& key,
             const std::string& problem, const YAML::Node& parent) {
  throw Error(locate(source, node, parent), key, problem);
}

std::string join_names(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return "nothing";
    case YAML::NodeType::Scalar: break;
  }
  return quoted(node.Scalar());
}

// ---------------------------------------------------------------------------------------------
// StrictMap

StrictMap::StrictMap(const YAML::Node& node, std::string source, std::string path,
                     const YAML::Node& parent)
    : node_(node), parent_(parent), source_(std::move(source)), path_(std::move(path)) {
  if (!node_.IsMap()) {
    strict_yaml::fail_at(source_, node_, path_.empty() ? "<document>" : path_, "expected a mapping",
                         parent_);
  }
}

std::string StrictMap::key_path(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

void StrictMap::fail(const std::string& key, const std::string& problem) const {
  strict_yaml::fail_at(source_, node_, key_path(key), problem, parent_);
}

void StrictMap::fail_at(const YAML::Node& where, const std::string& key,
                        const std::string& problem) const {
  strict_yaml::fail_at(source_, where, key_path(key), problem, node_);
}

bool StrictMap::has(const std::string& key) const { return static_cast<bool>(node_[key]); }

YAML::Node StrictMap::optional(const std::string& key) {
  used_.insert(key);
  return node_[key];
}

YAML::Node StrictMap::key_node(const std::string& key) const {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->first;
  }
  return node_;
}

YAML::Node StrictMap::required(const std::string& key) {
  YAML::Node value = optional(key);
  if (!value) fail(key, "missing required key");
  if (value.IsNull()) fail_at(key_node(key), key, "has no value");
  return value;
}

StrictMap StrictMap::child(const std::string& key) {
  return StrictMap(required(key), source_, key_path(key), node_);
}

int StrictMap::required_int(const std::string& key, int min_value) {
  const YAML::Node value = required(key);
  int parsed = 0;
  if (!value.IsScalar() || !YAML::convert<int>::decode(value, parsed)) {
    fail_at(value, key, "expected an integer, got '" + YAML::Dump(value) + "'");
  }
  if (parsed < min_value) {
    fail_at(value, key,
            "must be >= " + std::to_string(min_value) + ", got " + std::to_string(parsed));
  }
  return parsed;
}

double StrictMap::required_double(const std::string& key) {
  const YAML::Node value = required(key);
  double parsed = 0;
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, parsed)) {
    fail_at(value, key, "expected a number, got '" + YAML::Dump(value) + "'");
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
    fail_at(value, key,
            "expected a list of " + std::to_string(length) + " integers, got '" +
                YAML::Dump(value) + "'");
  }
  std::vector<int> out;
  for (const YAML::Node& item : value) {
    int parsed = 0;
    if (!item.IsScalar() || !YAML::convert<int>::decode(item, parsed) || parsed < min_value) {
      fail_at(item, key,
              "expected integers >= " + std::to_string(min_value) + ", got '" + YAML::Dump(value) +
                  "'");
    }
    out.push_back(parsed);
  }
  return out;
}

void StrictMap::check_keys(const std::vector<std::string_view>& known) const {
  check_key_names(&known);
}

void StrictMap::reject_unknown_keys() const { check_key_names(nullptr); }

void StrictMap::check_key_names(const std::vector<std::string_view>* known) const {
  std::set<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` returns a temporary proxy
    if (!key.IsScalar()) fail_at(key, "", "keys must be names, got " + kind_of(key));
    const std::string& name = key.Scalar();
    if (known != nullptr) {
      bool is_known = false;
      for (std::string_view k : *known) is_known = is_known || k == name;
      if (!is_known)
        fail_at(key, name, "unknown key (expected one of: " + join_names(*known) + ")");
    } else if (used_.count(name) == 0) {
      fail_at(key, name, "unknown key");
    }
    if (!seen.insert(name).second) fail_at(key, name, "duplicate key");
  }
}

}  // namespace strict_yaml
