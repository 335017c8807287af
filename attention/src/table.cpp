// The adaptive precision table as a model: located errors, index sets, the checks against a
// model and the dense per-(layer, step) grid. Reading YAML: table_yaml_reader.cpp; writing it:
// table_yaml_writer.cpp. Schema: docs/tables.md.
#include "sageattn/table.h"

#include <algorithm>
#include <utility>

#include "table_text.h"

namespace sageattn {
namespace {

using table_text::quoted;
using table_text::rule_key;
using table_text::span_key;
using table_text::span_text;

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
  // A named span starts and ends on a layer of its form, so that its name says exactly which
  // layers it holds.
  const auto starts_on = [&](bool cross) { return is_cross_attention_layer(span.first) == cross; };
  const auto ends_on = [&](bool cross) {
    return !span.last || is_cross_attention_layer(*span.last) == cross;
  };
  bool aligned = true;
  switch (span.form) {
    case SpanForm::kIndices: break;
    case SpanForm::kBlocks: aligned = starts_on(false) && ends_on(true); break;
    case SpanForm::kSelfAttention: aligned = starts_on(false) && ends_on(false); break;
    case SpanForm::kCrossAttention: aligned = starts_on(true) && ends_on(true); break;
  }
  if (!aligned) {
    throw TableError(where, key,
                     "a named span of layers " + std::to_string(span.first) + "-" +
                         (span.last ? std::to_string(*span.last) : std::string()) +
                         " does not start and end on layers of its form (blocks.N.attn1: even "
                         "ids, blocks.N.attn2: odd ids, blocks.N: even to odd)");
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
    if (highest < count) continue;
    if (span.form != SpanForm::kIndices) {
      // Names count blocks: say how many the model has, in the same words.
      const int blocks = block_of_layer(count - 1) + 1;
      throw TableError(location_of(span, rule), span_key(set, rule_index, field, j),
                       quoted(span_text(span)) + " is outside the model (the model has " +
                           std::to_string(blocks) + " block" + (blocks == 1 ? "" : "s") +
                           ": blocks." + table_text::run_text(0, blocks - 1) + ", " +
                           std::to_string(count) + " layers)");
    }
    throw TableError(location_of(span, rule), span_key(set, rule_index, field, j),
                     std::string(noun) + " " + quoted(span_text(span)) + " is outside the " +
                         std::string(owner) + " (" + extent + ")");
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

IndexSet IndexSet::of_named_layers(std::vector<int> layers, int num_layers) {
  if (num_layers < 1) {
    throw std::invalid_argument("IndexSet::of_named_layers: num_layers must be >= 1, got " +
                                std::to_string(num_layers));
  }
  const int blocks = block_of_layer(num_layers - 1) + 1;
  // Which of each block's layers are in the set: bit 0 attn1, bit 1 attn2.
  std::vector<int> members(static_cast<std::size_t>(blocks), 0);
  for (int layer : layers) {
    if (layer < 0 || layer >= num_layers) {
      throw std::invalid_argument("IndexSet::of_named_layers: layer " + std::to_string(layer) +
                                  " is outside 0-" + std::to_string(num_layers - 1));
    }
    members[static_cast<std::size_t>(block_of_layer(layer))] |=
        is_cross_attention_layer(layer) ? 2 : 1;
  }
  std::vector<IndexSpan> spans;
  for (int block = 0; block < blocks;) {
    const int kind = members[static_cast<std::size_t>(block)];
    int last = block;
    while (last + 1 < blocks && members[static_cast<std::size_t>(last + 1)] == kind) ++last;
    if (kind != 0) {
      IndexSpan span;
      span.form = kind == 3   ? SpanForm::kBlocks
                  : kind == 1 ? SpanForm::kSelfAttention
                              : SpanForm::kCrossAttention;
      span.first = kind == 2 ? cross_attention_layer(block) : self_attention_layer(block);
      span.last = kind == 1 ? self_attention_layer(last) : cross_attention_layer(last);
      if (block == 0 && last == blocks - 1) span.last.reset();  // blocks.*
      spans.push_back(span);
    }
    block = last + 1;
  }
  // By first layer: in one block, attn1 (even) comes before attn2 (odd).
  std::sort(spans.begin(), spans.end(),
            [](const IndexSpan& a, const IndexSpan& b) { return a.first < b.first; });
  return of(std::move(spans));
}

std::string to_string(const IndexSet& set) {
  if (set.is_all()) return "all";
  std::string text;
  for (const IndexSpan& span : set.spans()) {
    text += (text.empty() ? "" : ", ") + table_text::span_text(span);
  }
  return set.written_as_list() ? "[" + text + "]" : text;
}

bool IndexSet::contains(int index) const {
  if (all_) return true;
  for (const auto& span : spans_) {
    if (span.contains(index)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// PrecisionTable

PrecisionTable PrecisionTable::uniform(std::string model, Variant variant) {
  return PrecisionTable(std::move(model), variant, {},
                        "<uniform " + std::string(to_string(variant)) + ">");
}

PrecisionTable PrecisionTable::with_rules_before_default(std::vector<TableRule> rules) const {
  // Checked as a table of their own (each names its own source), then appended.
  const PrecisionTable checked(model_, default_, std::move(rules), source_);
  PrecisionTable joined = *this;
  joined.rules_.insert(joined.rules_.end(), checked.rules_.begin(), checked.rules_.end());
  return joined;
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
        const IndexSpan& span = set->spans()[j];
        if (set == &rule.steps && span.form != SpanForm::kIndices) {
          throw TableError(location_of(span, rule), span_key(*set, i, field, j),
                           "layer names are for layers; steps are numbers");
        }
        check_span(span, location_of(span, rule), span_key(*set, i, field, j));
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
