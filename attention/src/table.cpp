// The adaptive precision table as a model: located errors, index sets, the checks against a
// model and the dense per-(layer, step) grid. Reading YAML: table_yaml_reader.cpp; writing it:
// table_yaml_writer.cpp. Schema: docs/tables.md.
#include "sageattn/table.h"

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
// PrecisionTable

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
