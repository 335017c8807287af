// The adaptive precision table: YAML reading with located errors, checks against a model,
// the dense per-(layer, step) grid, and YAML writing. Schema: docs/tables.md.
#include "sageattn/table.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace sageattn {
namespace {

// Indices past this are typos, not models: keeps "a-b" arithmetic far from int overflow.
constexpr long long kMaxIndex = 1'000'000;

using KeyNames = std::vector<std::string_view>;
const KeyNames& top_level_keys() {
  static const KeyNames keys = {"model", "default", "rules"};
  return keys;
}
const KeyNames& rule_keys() {
  static const KeyNames keys = {"layers", "steps", "variant", "comment"};
  return keys;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string join(const KeyNames& items) {
  return join(std::vector<std::string>(items.begin(), items.end()));
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string rule_key(std::size_t rule_index, std::string_view field) {
  return "rules[" + std::to_string(rule_index) + "]" + (field.empty() ? "" : ".") +
         std::string(field);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Digits only (checked by the caller); saturates so that "99999999999999999999" reports as
// too large instead of wrapping.
long long parse_digits(std::string_view digits) {
  long long value = 0;
  for (char c : digits) {
    value = value * 10 + (c - '0');
    if (value > kMaxIndex) return kMaxIndex + 1;
  }
  return value;
}

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

// How a span is written back: 3, "10-19" or "20-".
std::string span_text(const IndexSpan& span) {
  if (!span.last) return std::to_string(span.first) + "-";
  if (*span.last == span.first) return std::to_string(span.first);
  return std::to_string(span.first) + "-" + std::to_string(*span.last);
}

std::string span_yaml(const IndexSpan& span) {
  const std::string text = span_text(span);
  return (span.last && *span.last == span.first) ? text : quoted(text);
}

// Double-quoted YAML scalar: safe for any text a calibrator may put in a comment.
std::string yaml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Model names are usually identifiers ("sagegen-tiny"); anything else is quoted so that YAML
// reads back the same string (not a number, bool or null).
std::string yaml_name(std::string_view name) {
  bool plain = !name.empty() && std::isalpha(static_cast<unsigned char>(name.front()));
  for (char c : name) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                      c == '.' || c == '/');
  }
  for (std::string_view word :
       {"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
        "yes",  "Yes",  "YES",  "no",   "No",   "NO",   "on",    "On",    "ON",
        "off",  "Off",  "OFF",  "y",    "Y",    "n",    "N"}) {
    plain = plain && name != word;
  }
  return plain ? std::string(name) : yaml_string(name);
}

std::string index_set_yaml(const IndexSet& set) {
  if (set.is_all()) return "all";
  const auto& spans = set.spans();
  if (spans.size() == 1 && !set.written_as_list()) return span_yaml(spans.front());
  std::string out = "[";
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out += ", ";
    out += span_yaml(spans[i]);
  }
  return out + "]";
}

// The error's key for span j of a set: "rules[2].steps" or, inside a list, "rules[2].steps[1]".
std::string span_key(const IndexSet& set, std::size_t rule_index, std::string_view field,
                     std::size_t span_index) {
  std::string key = rule_key(rule_index, field);
  if (set.written_as_list()) key += "[" + std::to_string(span_index) + "]";
  return key;
}

// A span checked for what cannot be expressed in YAML syntax errors: tables built in code go
// through the same rules as tables read from files.
void check_span(const IndexSpan& span, const SourceLocation& where, const std::string& key) {
  if (span.first < 0) {
    throw TableError(where, key,
                     "negative index " + std::to_string(span.first) + " (indices count from 0)");
  }
  if (span.last && *span.last < span.first) {
    throw TableError(where, key, "bad range " + quoted(span_text(span)) + " (start after end)");
  }
}

// A span read from YAML knows its line; one built in code falls back to its rule's location.
const SourceLocation& location_of(const IndexSpan& span, const TableRule& rule) {
  return span.where.file.empty() ? rule.where : span.where;
}

// Errors for a set that reaches past `count` layers of the model or steps of the run
// (noun: "layer" or "step"; owner: "model" or "run").
void check_set_fits(const TableRule& rule, const IndexSet& set, std::size_t rule_index,
                    std::string_view field, std::string_view noun, std::string_view owner,
                    int count) {
  if (set.is_all()) return;
  const std::string extent = "the " + std::string(owner) + " has " + std::to_string(count) + " " +
                             std::string(noun) + "s: 0-" + std::to_string(count - 1);
  for (std::size_t j = 0; j < set.spans().size(); ++j) {
    const IndexSpan& span = set.spans()[j];
    const int highest = span.last ? *span.last : span.first;
    if (highest >= count) {
      throw TableError(location_of(span, rule), span_key(set, rule_index, field, j),
                       std::string(noun) + " " + quoted(span_text(span)) + " is outside the " +
                           std::string(owner) + " (" + extent + ")");
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Errors and index sets

std::string to_string(const SourceLocation& where) {
  if (where.line <= 0) return where.file;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

TableError::TableError(SourceLocation where, std::string key, const std::string& problem)
    : std::runtime_error(to_string(where) + ": " + (key.empty() ? "" : key + ": ") + problem),
      where_(std::move(where)),
      key_(std::move(key)) {}

IndexSet IndexSet::all() {
  IndexSet set;
  set.all_ = true;
  return set;
}

IndexSet IndexSet::of(std::vector<IndexSpan> spans, std::optional<bool> written_as_list) {
  IndexSet set;
  set.listed_ = written_as_list.value_or(spans.size() != 1);
  set.spans_ = std::move(spans);
  return set;
}

bool IndexSet::contains(int index) const {
  if (all_) return true;
  for (const auto& span : spans_) {
    if (span.contains(index)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Reading YAML

// Walks one parsed document; every error carries the node's line and column.
class TableReader {
 public:
  explicit TableReader(std::string source) : source_(std::move(source)) {}

  PrecisionTable read(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      SourceLocation where{source_, e.mark.line + 1, e.mark.column + 1};
      if (e.mark.is_null()) where.line = 0;
      const bool tab_indent = !e.mark.is_null() && leading_whitespace_has_tab(text, e.mark.line);
      throw TableError(where, "",
                       "YAML syntax error: " + e.msg +
                           (tab_indent ? " (tabs cannot indent YAML: use spaces)" : ""));
    }
    if (!root.IsDefined() || root.IsNull()) {
      throw TableError({source_}, "",
                       "the table is empty (expected keys: " + join(top_level_keys()) + ")");
    }
    if (!root.IsMap()) {
      fail(root, "", "the table must be a mapping with keys: " + join(top_level_keys()));
    }
    check_keys(root, "", top_level_keys());

    PrecisionTable table;
    table.source_ = source_;
    const YAML::Node model = required(root, root, "", "model");
    table.model_ = read_text(model, "model");
    if (table.model_.empty()) fail(model, "model", "must name a model (e.g. sagegen-tiny)");
    table.model_where_ = at(model, root);
    table.default_ = read_variant(required(root, root, "", "default"), root, "default");

    const YAML::Node rules = root["rules"];
    if (rules && !rules.IsNull()) {
      if (!rules.IsSequence()) fail(rules, "rules", "must be a list of rules");
      for (std::size_t i = 0; i < rules.size(); ++i) {
        table.rules_.push_back(read_rule(rules[i], i, rules));
      }
    }
    return table;
  }

 private:
  SourceLocation at(const YAML::Node& node, const YAML::Node& parent) const {
    // A null node made by yaml-cpp (not written in the file) has no mark; point at its parent.
    YAML::Mark mark = node.Mark();
    if (mark.is_null()) mark = parent.Mark();
    if (mark.is_null()) return {source_};
    return {source_, mark.line + 1, mark.column + 1};
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& problem,
                         const YAML::Node& parent = {}) const {
    throw TableError(at(node, parent), key, problem);
  }

  static std::string kind_of(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Null:
        return "nothing";
      default:
        return quoted(node.Scalar());
    }
  }

  // Unknown and duplicate keys; `prefix` is "" at the top level or "rules[2]" in a rule.
  void check_keys(const YAML::Node& map, const std::string& prefix, const KeyNames& known) const {
    std::vector<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node& key_node = it->first;
      if (!key_node.IsScalar()) {
        fail(key_node, prefix, "keys must be names, got " + kind_of(key_node));
      }
      const std::string& name = key_node.Scalar();
      const std::string key = prefix.empty() ? name : prefix + "." + name;
      bool is_known = false;
      for (auto k : known) is_known = is_known || k == name;
      if (!is_known) fail(key_node, key, "unknown key (expected one of: " + join(known) + ")");
      for (const auto& s : seen) {
        if (s == name) fail(key_node, key, "duplicate key");
      }
      seen.push_back(name);
    }
  }

  YAML::Node required(const YAML::Node& map, const YAML::Node& parent, const std::string& prefix,
                      const char* name) const {
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    const YAML::Node value = map[name];
    if (!value) fail(map, key, "missing required key", parent);
    // yaml-cpp marks an empty value at the next token (often the next line): point at the key.
    if (value.IsNull()) fail(key_node(map, name), key, "has no value", map);
    return value;
  }

  static YAML::Node key_node(const YAML::Node& map, std::string_view name) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == name) return it->first;
    }
    return map;
  }

  std::string read_text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "must be a string, got " + kind_of(node));
    return node.Scalar();
  }

  Variant read_variant(const YAML::Node& node, const YAML::Node& parent,
                       const std::string& key) const {
    if (!node.IsScalar()) {
      fail(node, key, "must be a variant name, got " + kind_of(node), parent);
    }
    const auto variant = parse_variant(node.Scalar());
    if (!variant) {
      fail(node, key,
           "unknown variant " + quoted(node.Scalar()) + " (one of: " + join(variant_names()) + ")",
           parent);
    }
    return *variant;
  }

  TableRule read_rule(const YAML::Node& node, std::size_t index, const YAML::Node& rules) const {
    const std::string prefix = rule_key(index, "");
    if (!node.IsMap()) {
      fail(node, prefix, "a rule must be a mapping {layers, steps, variant}, got " + kind_of(node),
           rules);
    }
    check_keys(node, prefix, rule_keys());
    TableRule rule;
    rule.where = at(node, rules);
    rule.layers = read_index_set(required(node, rules, prefix, "layers"), node, prefix + ".layers");
    rule.steps = read_index_set(required(node, rules, prefix, "steps"), node, prefix + ".steps");
    rule.variant =
        read_variant(required(node, rules, prefix, "variant"), node, prefix + ".variant");
    if (const YAML::Node comment = node["comment"]; comment && !comment.IsNull()) {
      rule.comment = read_text(comment, prefix + ".comment");
    }
    return rule;
  }

  // all | N | "A-B" | "A-" | [items...]; a list is a set of items, never a range.
  IndexSet read_index_set(const YAML::Node& node, const YAML::Node& parent,
                          const std::string& key) const {
    if (node.IsScalar() && trim(node.Scalar()) == "all") return IndexSet::all();
    if (node.IsScalar()) return IndexSet::of({read_span(node, parent, key)}, false);
    if (!node.IsSequence()) {
      fail(node, key,
           "expected all, an index, a range \"A-B\" / \"A-\" or a list of these, got " +
               kind_of(node),
           parent);
    }
    if (node.size() == 0) {
      fail(node, key, "empty list matches nothing (use all, or remove the rule)", parent);
    }
    std::vector<IndexSpan> spans;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      const YAML::Node item = node[i];
      if (!item.IsScalar()) {
        fail(item, item_key, "expected an index or a range \"A-B\" / \"A-\", got " + kind_of(item),
             node);
      }
      if (trim(item.Scalar()) == "all") {
        fail(item, item_key, "all cannot be part of a list (write all alone)", node);
      }
      spans.push_back(read_span(item, node, item_key));
    }
    return IndexSet::of(std::move(spans), true);
  }

  IndexSpan read_span(const YAML::Node& node, const YAML::Node& parent,
                      const std::string& key) const {
    const std::string_view text = trim(node.Scalar());
    const std::string shown = quoted(node.Scalar());
    IndexSpan span;
    span.where = at(node, parent);
    if (text.size() > 1 && text.front() == '-' &&
        std::isdigit(static_cast<unsigned char>(text[1]))) {
      fail(node, key, "negative number " + shown + " (layers and steps count from 0)", parent);
    }
    const auto dash = text.find('-');
    const std::string_view first = trim(text.substr(0, dash));
    const std::string_view last =
        dash == std::string_view::npos ? std::string_view{} : trim(text.substr(dash + 1));
    const bool well_formed =
        all_digits(first) && (dash == std::string_view::npos || last.empty() || all_digits(last));
    if (!well_formed) {
      fail(node, key,
           "bad range " + shown +
               " (expected all, an index like 3, \"A-B\" like \"10-19\", \"A-\" like "
               "\"20-\", or a list of these)",
           parent);
    }
    const long long first_value = parse_digits(first);
    const long long last_value = last.empty() ? first_value : parse_digits(last);
    if (first_value > kMaxIndex || last_value > kMaxIndex) {
      fail(node, key,
           "index in " + shown + " is too large (at most " + std::to_string(kMaxIndex) + ")",
           parent);
    }
    span.first = static_cast<int>(first_value);
    if (dash == std::string_view::npos || !last.empty()) span.last = static_cast<int>(last_value);
    if (span.last && *span.last < span.first) {
      fail(node, key, "bad range " + shown + " (start after end)", parent);
    }
    return span;
  }

  std::string source_;
};

// ---------------------------------------------------------------------------------------------
// PrecisionTable

PrecisionTable PrecisionTable::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw TableError({path}, "",
                     std::string("cannot open the table file: ") + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_string(text.str(), path);
}

PrecisionTable PrecisionTable::load_string(std::string_view yaml, std::string source_name) {
  return TableReader(std::move(source_name)).read(yaml);
}

PrecisionTable PrecisionTable::uniform(std::string model, Variant variant) {
  return PrecisionTable(std::move(model), variant, {},
                        "<uniform " + std::string(to_string(variant)) + ">");
}

PrecisionTable::PrecisionTable(std::string model, Variant default_variant,
                               std::vector<TableRule> rules, std::string source_name)
    : model_(std::move(model)),
      default_(default_variant),
      rules_(std::move(rules)),
      source_(std::move(source_name)),
      model_where_{source_} {
  if (model_.empty())
    throw TableError(model_where_, "model", "must name a model (e.g. sagegen-tiny)");
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    TableRule& rule = rules_[i];
    if (rule.where.file.empty()) rule.where.file = source_;
    for (auto [set, field] : {std::pair{&rule.layers, "layers"}, std::pair{&rule.steps, "steps"}}) {
      if (set->is_all()) continue;
      if (set->spans().empty()) {
        throw TableError(rule.where, rule_key(i, field), "empty set matches nothing");
      }
      for (std::size_t j = 0; j < set->spans().size(); ++j) {
        check_span(set->spans()[j], location_of(set->spans()[j], rule),
                   span_key(*set, i, field, j));
      }
    }
  }
}

void PrecisionTable::validate_for(std::string_view model_name, int num_layers,
                                  int num_steps) const {
  if (num_layers < 1 || num_steps < 1) {
    throw std::invalid_argument(
        "PrecisionTable::validate_for: num_layers and num_steps must be "
        ">= 1, got num_layers=" +
        std::to_string(num_layers) + ", num_steps=" + std::to_string(num_steps));
  }
  if (model_name != model_) {
    throw TableError(
        model_where_, "model",
        "the table is for " + quoted(model_) + ", not for the model " + quoted(model_name));
  }
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    check_set_fits(rules_[i], rules_[i].layers, i, "layers", "layer", "model", num_layers);
    check_set_fits(rules_[i], rules_[i].steps, i, "steps", "step", "run", num_steps);
  }
}

Variant PrecisionTable::match(int layer, int step) const {
  if (layer < 0 || step < 0) {
    throw std::out_of_range("PrecisionTable::match: layer and step count from 0, got layer=" +
                            std::to_string(layer) + ", step=" + std::to_string(step));
  }
  for (const auto& rule : rules_) {
    if (rule.layers.contains(layer) && rule.steps.contains(step)) return rule.variant;
  }
  return default_;
}

ResolvedTable PrecisionTable::resolve(std::string_view model_name, int num_layers,
                                      int num_steps) const {
  validate_for(model_name, num_layers, num_steps);
  std::vector<Variant> grid(static_cast<std::size_t>(num_layers) * num_steps, default_);
  std::vector<bool> rule_used(rules_.size(), false);
  for (int layer = 0; layer < num_layers; ++layer) {
    for (int step = 0; step < num_steps; ++step) {
      for (std::size_t i = 0; i < rules_.size(); ++i) {
        if (rules_[i].layers.contains(layer) && rules_[i].steps.contains(step)) {
          grid[static_cast<std::size_t>(layer) * num_steps + step] = rules_[i].variant;
          rule_used[i] = true;
          break;
        }
      }
    }
  }
  // A rule that decides nothing is shadowed by earlier ones: legal, but rarely what was meant.
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (!rule_used[i]) {
      warnings.push_back(to_string(rules_[i].where) + ": " + rule_key(i, "") +
                         ": decides nothing: earlier rules already decide every (layer, step) "
                         "it covers");
    }
  }
  return ResolvedTable(num_layers, num_steps, std::move(grid), std::move(warnings));
}

std::string PrecisionTable::to_yaml(std::string_view header) const {
  std::ostringstream out;
  std::istringstream header_lines{std::string(header)};
  for (std::string line; std::getline(header_lines, line);) {
    out << (line.empty() ? "#" : "# " + line) << "\n";
  }
  out << "# sagegen adaptive precision table (schema: docs/tables.md).\n"
      << "# For each (layer, step) the first matching rule wins, else the default. Lists are\n"
      << "# sets of items ([0, 2] is {0, 2}); \"a-b\" is an inclusive range, \"a-\" is open.\n"
      << "model: " << yaml_name(model_) << "\n"
      << "default: " << to_string(default_) << "\n";
  if (rules_.empty()) {
    out << "rules: []\n";
    return out.str();
  }
  out << "rules:\n";
  for (const auto& rule : rules_) {
    out << "  - {layers: " << index_set_yaml(rule.layers)
        << ", steps: " << index_set_yaml(rule.steps) << ", variant: " << to_string(rule.variant);
    if (!rule.comment.empty()) out << ", comment: " << yaml_string(rule.comment);
    out << "}\n";
  }
  return out.str();
}

void PrecisionTable::save(const std::string& path, std::string_view header) const {
  const std::string text = to_yaml(header);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw TableError({path}, "",
                     std::string("cannot write the table file: ") + std::strerror(errno));
  }
  out << text;
  out.flush();
  if (!out) {
    throw TableError({path}, "",
                     std::string("writing the table file failed: ") + std::strerror(errno));
  }
}

// ---------------------------------------------------------------------------------------------
// ResolvedTable

ResolvedTable::ResolvedTable(int num_layers, int num_steps, std::vector<Variant> grid,
                             std::vector<std::string> warnings)
    : num_layers_(num_layers),
      num_steps_(num_steps),
      grid_(std::move(grid)),
      warnings_(std::move(warnings)) {}

int ResolvedTable::count(Variant variant) const {
  int n = 0;
  for (Variant v : grid_) n += v == variant ? 1 : 0;
  return n;
}

void ResolvedTable::throw_out_of_range(int layer, int step) const {
  throw std::out_of_range("precision table lookup: (layer " + std::to_string(layer) + ", step " +
                          std::to_string(step) + ") is outside the table resolved for " +
                          std::to_string(num_layers_) + " layers x " + std::to_string(num_steps_) +
                          " steps");
}

}  // namespace sageattn
