// PrecisionTable from YAML (schema: docs/tables.md). The document, its keys and their locations
// go through the strict YAML reader that the configs of libsagegen use too
// (common/include/strict_yaml); what is a table's own, the variants and the index sets "all",
// 3, "10-19", "20-" and lists of them, is read here. Every error is a TableError naming file,
// line, column and key.
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "sageattn/table.h"
#include "strict_yaml/strict_yaml.h"
#include "table_text.h"

namespace sageattn {
namespace {

using table_text::quoted;
using table_text::rule_key;

// Indices past this are typos, not models: keeps "a-b" arithmetic far from int overflow.
constexpr long long kMaxIndex = 1'000'000;

const std::vector<std::string_view>& top_level_keys() {
  static const std::vector<std::string_view> keys = {"model", "default", "rules"};
  return keys;
}
const std::vector<std::string_view>& rule_keys() {
  static const std::vector<std::string_view> keys = {"layers", "steps", "variant", "comment"};
  return keys;
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

// Layers may be named (blocks.3.attn2); steps are only numbers.
enum class IndexKind { kLayers, kSteps };

// A letter, a dot or a star cannot be part of an index or a range: the item is meant as a name.
bool looks_like_a_name(std::string_view text) {
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '.' || c == '*') return true;
  }
  return false;
}

// "N", "A-B" or "A-" (spaces around the dash allowed) as numbers; last empty for "A-".
struct Run {
  enum Problem { kNone, kMalformed, kTooLarge };
  int first = 0;
  std::optional<int> last;
  Problem problem = kNone;
};

Run parse_run(std::string_view text) {
  Run run;
  const auto dash = text.find('-');
  const std::string_view first = trim(text.substr(0, dash));
  const std::string_view last =
      dash == std::string_view::npos ? std::string_view{} : trim(text.substr(dash + 1));
  if (!all_digits(first) || (dash != std::string_view::npos && !last.empty() && !all_digits(last))) {
    run.problem = Run::kMalformed;
    return run;
  }
  const long long first_value = parse_digits(first);
  const long long last_value = last.empty() ? first_value : parse_digits(last);
  if (first_value > kMaxIndex || last_value > kMaxIndex) {
    run.problem = Run::kTooLarge;
    return run;
  }
  run.first = static_cast<int>(first_value);
  if (dash == std::string_view::npos || !last.empty()) run.last = static_cast<int>(last_value);
  return run;
}

SourceLocation source_location(const strict_yaml::Location& where) {
  return {where.file, where.line, where.column};
}

}  // namespace

// Walks one parsed document; every error carries the node's line and column. A friend of
// PrecisionTable (it fills in the private fields the public constructor derives).
class TableReader {
 public:
  explicit TableReader(std::string source) : source_(std::move(source)) {}

  PrecisionTable read(std::string_view text) {
    try {
      return read_document(text);
    } catch (const strict_yaml::Error& e) {
      throw TableError(source_location(e.where()), e.key(), e.problem());
    }
  }

 private:
  PrecisionTable read_document(std::string_view text) {
    const YAML::Node root = strict_yaml::parse_document(text, source_);
    if (!root.IsDefined() || root.IsNull()) {
      throw strict_yaml::Error(
          {source_}, "",
          "the table is empty (expected keys: " + strict_yaml::join_names(top_level_keys()) + ")");
    }
    if (!root.IsMap()) {
      fail(root, "",
           "the table must be a mapping with keys: " + strict_yaml::join_names(top_level_keys()));
    }
    strict_yaml::StrictMap map(root, source_, "");
    map.check_keys(top_level_keys());

    PrecisionTable table;
    table.source_ = source_;
    const YAML::Node model = map.required("model");
    table.model_ = read_text(model, "model");
    if (table.model_.empty()) fail(model, "model", "must name a model (e.g. sagegen-tiny)");
    table.model_where_ = source_location(strict_yaml::locate(source_, model, root));
    table.default_ = read_variant(map.required("default"), root, "default");

    const YAML::Node rules = map.optional("rules");
    if (rules && !rules.IsNull()) {
      if (!rules.IsSequence()) fail(rules, "rules", "must be a list of rules");
      for (std::size_t i = 0; i < rules.size(); ++i) {
        table.rules_.push_back(read_rule(rules[i], i, rules));
      }
    }
    return table;
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& problem,
                         const YAML::Node& parent = {}) const {
    strict_yaml::fail_at(source_, node, key, problem, parent);
  }

  std::string read_text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "must be a string, got " + strict_yaml::kind_of(node));
    return node.Scalar();
  }

  Variant read_variant(const YAML::Node& node, const YAML::Node& parent,
                       const std::string& key) const {
    if (!node.IsScalar()) {
      fail(node, key, "must be a variant name, got " + strict_yaml::kind_of(node), parent);
    }
    const auto variant = parse_variant(node.Scalar());
    if (!variant) {
      std::string names;
      for (const std::string& name : variant_names()) names += (names.empty() ? "" : ", ") + name;
      fail(node, key, "unknown variant " + quoted(node.Scalar()) + " (one of: " + names + ")",
           parent);
    }
    return *variant;
  }

  TableRule read_rule(const YAML::Node& node, std::size_t index, const YAML::Node& rules) const {
    const std::string prefix = rule_key(index, "");
    if (!node.IsMap()) {
      fail(node, prefix,
           "a rule must be a mapping {layers, steps, variant}, got " + strict_yaml::kind_of(node),
           rules);
    }
    strict_yaml::StrictMap map(node, source_, prefix, rules);
    map.check_keys(rule_keys());
    TableRule rule;
    rule.where = source_location(strict_yaml::locate(source_, node, rules));
    rule.layers =
        read_index_set(map.required("layers"), node, prefix + ".layers", IndexKind::kLayers);
    rule.steps = read_index_set(map.required("steps"), node, prefix + ".steps", IndexKind::kSteps);
    rule.variant = read_variant(map.required("variant"), node, prefix + ".variant");
    if (const YAML::Node comment = map.optional("comment"); comment && !comment.IsNull()) {
      rule.comment = read_text(comment, prefix + ".comment");
    }
    return rule;
  }

  // all | N | "A-B" | "A-" | [items...]; a list is a set of items, never a range. Layers may
  // also be names (blocks.3.attn2, "blocks.10-19.attn1", "blocks.*"), alone or in a list.
  IndexSet read_index_set(const YAML::Node& node, const YAML::Node& parent, const std::string& key,
                          IndexKind kind) const {
    if (node.IsScalar() && trim(node.Scalar()) == "all") return IndexSet::all();
    if (node.IsScalar()) return IndexSet::of({read_span(node, parent, key, kind)}, false);
    if (!node.IsSequence()) {
      fail(node, key,
           "expected all, an index, a range \"A-B\" / \"A-\" or a list of these, got " +
               strict_yaml::kind_of(node),
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
        fail(item, item_key,
             "expected an index or a range \"A-B\" / \"A-\", got " + strict_yaml::kind_of(item),
             node);
      }
      if (trim(item.Scalar()) == "all") {
        fail(item, item_key, "all cannot be part of a list (write all alone)", node);
      }
      spans.push_back(read_span(item, node, item_key, kind));
    }
    return IndexSet::of(std::move(spans), true);
  }

  IndexSpan read_span(const YAML::Node& node, const YAML::Node& parent, const std::string& key,
                      IndexKind kind) const {
    const std::string_view text = trim(node.Scalar());
    const std::string shown = quoted(node.Scalar());
    IndexSpan span;
    span.where = source_location(strict_yaml::locate(source_, node, parent));
    if (kind == IndexKind::kLayers && looks_like_a_name(text)) {
      read_layer_name(text, node, parent, key, span);
      return span;
    }
    if (text.size() > 1 && text.front() == '-' &&
        std::isdigit(static_cast<unsigned char>(text[1]))) {
      fail(node, key, "negative number " + shown + " (layers and steps count from 0)", parent);
    }
    const Run run = parse_run(text);
    if (run.problem == Run::kMalformed) {
      fail(node, key,
           "bad range " + shown +
               " (expected all, an index like 3, \"A-B\" like \"10-19\", \"A-\" like "
               "\"20-\", or a list of these" +
               (kind == IndexKind::kLayers ? "; or a layer name like blocks.3.attn2" : "") + ")",
           parent);
    }
    check_run(run, node, parent, key, shown);
    span.first = run.first;
    span.last = run.last;
    return span;
  }

  // blocks.<B>[.attn1|.attn2], B one of: N, A-B, A-, *. Layer ids through sageattn/layer_names.h.
  void read_layer_name(std::string_view text, const YAML::Node& node, const YAML::Node& parent,
                       const std::string& key, IndexSpan& span) const {
    const std::string shown = quoted(node.Scalar());
    constexpr std::string_view kPrefix = "blocks.";
    Run blocks;
    blocks.problem = Run::kMalformed;
    SpanForm form = SpanForm::kBlocks;
    if (text.substr(0, kPrefix.size()) == kPrefix) {
      std::string_view rest = text.substr(kPrefix.size());
      const auto dot = rest.find('.');
      const std::string_view suffix =
          dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
      const std::string_view block_text = trim(rest.substr(0, dot));
      const bool known_suffix = dot == std::string_view::npos || suffix == "attn1" || suffix == "attn2";
      if (suffix == "attn1") form = SpanForm::kSelfAttention;
      if (suffix == "attn2") form = SpanForm::kCrossAttention;
      if (known_suffix) {
        if (block_text == "*") {
          blocks = Run{};
        } else if (!block_text.empty() && block_text.front() != '-') {
          blocks = parse_run(block_text);
        }
      }
    }
    if (blocks.problem == Run::kMalformed) {
      fail(node, key,
           "unknown layer name " + shown +
               " (expected blocks.N.attn1 for self-attention, blocks.N.attn2 for "
               "cross-attention or blocks.N for both; N is a block like 3, a range like 10-19 "
               "or 20-, or * for every block)",
           parent);
    }
    check_run(blocks, node, parent, key, shown);
    span.form = form;
    span.first = form == SpanForm::kCrossAttention ? cross_attention_layer(blocks.first)
                                                   : self_attention_layer(blocks.first);
    if (blocks.last) {
      span.last = form == SpanForm::kSelfAttention ? self_attention_layer(*blocks.last)
                                                   : cross_attention_layer(*blocks.last);
    }
  }

  // Errors for a well-formed run: too large, or reversed. `shown` is the item as written.
  void check_run(const Run& run, const YAML::Node& node, const YAML::Node& parent,
                 const std::string& key, const std::string& shown) const {
    if (run.problem == Run::kTooLarge) {
      fail(node, key,
           "index in " + shown + " is too large (at most " + std::to_string(kMaxIndex) + ")",
           parent);
    }
    if (run.last && *run.last < run.first) {
      fail(node, key, "bad range " + shown + " (start after end)", parent);
    }
  }

  std::string source_;
};

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

}  // namespace sageattn
