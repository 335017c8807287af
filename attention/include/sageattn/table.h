// The adaptive precision table: which attention variant runs for each (layer, step) of a
// generation. Loaded from YAML (schema and error format: docs/tables.md), checked against a
// model, resolved once into a dense [layers x steps] grid that the attention context reads on
// every call, and written back by the calibrator. yaml-cpp stays out of this header.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sageattn/layer_names.h"
#include "sageattn/types.h"

namespace sageattn {

// Where a value came from: a file (or the name given to a string) and a 1-based line and
// column. line == 0 for tables built in code, which have no source text.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// "file:line:column" (or just "file" when there is no line).
std::string to_string(const SourceLocation& where);

// Every problem with a table: bad YAML, bad schema, or a table that does not fit the model.
// what() is "<file>:<line>:<column>: <key>: <problem>", e.g.
//   configs/tables/x.yaml:7:5: rules[2].steps: bad range "20-10" (start after end)
class TableError : public std::runtime_error {
 public:
  TableError(SourceLocation where, std::string key, const std::string& problem);
  const SourceLocation& where() const { return where_; }
  const std::string& key() const { return key_; }  // e.g. "rules[2].steps"; "" for the file

 private:
  SourceLocation where_;
  std::string key_;
};

// How a span of layers is written: as layer ids, or by the names of sageattn/layer_names.h.
// Steps are always kIndices.
enum class SpanForm : std::uint8_t {
  kIndices,         // 3, "10-19", "20-"
  kBlocks,          // blocks.3, "blocks.10-19", "blocks.*": both attention layers of each block
  kSelfAttention,   // blocks.3.attn1, "blocks.*.attn1": the self-attention (even) layers
  kCrossAttention,  // blocks.3.attn2, "blocks.*.attn2": the cross-attention (odd) layers
};

// A run of indices: [first, last], or [first, infinity) when last is empty ("20-"). A span
// written by layer name holds layer ids too: "blocks.2-4.attn2" is first 5, last 9, and
// contains only the cross-attention (odd) ids between them. A named span starts and ends on a
// layer of its form (blocks: first even, last odd).
struct IndexSpan {
  int first = 0;
  std::optional<int> last;
  SourceLocation where;  // the YAML item it was read from (for errors against a model)
  SpanForm form = SpanForm::kIndices;

  bool contains(int index) const {
    if (index < first || (last && index > *last)) return false;
    if (form == SpanForm::kSelfAttention) return !is_cross_attention_layer(index);
    if (form == SpanForm::kCrossAttention) return is_cross_attention_layer(index);
    return true;
  }
};

// The layers or steps a rule covers: every index ("all") or the union of its spans.
// YAML forms: all | 3 | "10-19" | "20-" | [0, 2, "5-7", "30-"]. A list is a set of items, so
// [0, 2] is {0, 2}; the range 0..2 is written "0-2".
class IndexSet {
 public:
  static IndexSet all();
  // written_as_list: saved as [..] even with one span; default: a list unless one span.
  // Spans are checked when a PrecisionTable is built from them (non-empty, >= 0, ordered).
  static IndexSet of(std::vector<IndexSpan> spans, std::optional<bool> written_as_list = {});
  // Layer ids (any order, no duplicates) written by name, fewest spans first: runs of whole
  // blocks as "blocks.A-B", runs of blocks where only attn1 (attn2) is in the set as
  // "blocks.A-B.attn1" ("...attn2"); a run over every one of the model's num_layers / 2 blocks
  // as "blocks.*" ("blocks.*.attn1", ...). Spans sorted by first layer.
  static IndexSet of_named_layers(std::vector<int> layers, int num_layers);

  bool is_all() const { return all_; }
  bool written_as_list() const { return listed_; }
  const std::vector<IndexSpan>& spans() const { return spans_; }
  bool contains(int index) const;

 private:
  bool all_ = false;
  bool listed_ = false;
  std::vector<IndexSpan> spans_;
};

// As a table writes it, without YAML quotes: all, 3, 10-19, blocks.*.attn2, [0, blocks.3].
std::string to_string(const IndexSet& set);

struct TableRule {
  IndexSet layers;
  IndexSet steps;
  Variant variant = Variant::kSage2Int8;
  // Why this rule exists (the calibrator writes the metric that chose it); kept through
  // load and save as the rule's `comment` key.
  std::string comment;
  SourceLocation where;  // the rule's mapping in the file
};

class ResolvedTable;

// A table as written: the model it is for, a default variant and rules where the first
// rule covering (layer, step) wins. Immutable once built; cheap to copy.
class PrecisionTable {
 public:
  // Throws TableError for YAML syntax errors and every schema violation, naming file, line,
  // column and key.
  static PrecisionTable load_file(const std::string& path);
  // source_name stands in for the file name in errors.
  static PrecisionTable load_string(std::string_view yaml, std::string source_name = "<string>");

  // One variant everywhere (the --attention override, or a table for a single variant).
  static PrecisionTable uniform(std::string model, Variant variant);

  // This table with `rules` after its own: they decide only the (layer, step) pairs its rules
  // leave to its default. A model's own precision rules join a user's table this way
  // (ModelConfig::precision_rules). The rules go through the constructor's checks.
  PrecisionTable with_rules_before_default(std::vector<TableRule> rules) const;

  // Built in code (the calibrator). Throws TableError for an empty model name.
  PrecisionTable(std::string model, Variant default_variant, std::vector<TableRule> rules,
                 std::string source_name = "<built in code>");

  const std::string& model() const { return model_; }
  Variant default_variant() const { return default_; }
  const std::vector<TableRule>& rules() const { return rules_; }
  const std::string& source_name() const { return source_; }

  // Throws TableError when the table is for another model or names a layer or step the model
  // does not have (an open range "a-" counts from its start). num_layers, num_steps >= 1.
  void validate_for(std::string_view model_name, int num_layers, int num_steps) const;

  // validate_for, then every (layer, step) decided once for the per-call lookup.
  ResolvedTable resolve(std::string_view model_name, int num_layers, int num_steps) const;

  // First-match rule scan, for any non-negative layer and step (no model needed). The per-call
  // path should use ResolvedTable::variant_for instead.
  Variant match(int layer, int step) const;

  // YAML that load_string reads back to the same decisions. header: free text written as
  // '#' comment lines at the top (may hold newlines); the schema pointer follows it.
  std::string to_yaml(std::string_view header = {}) const;
  void save(const std::string& path, std::string_view header = {}) const;

 private:
  PrecisionTable() = default;
  friend class TableReader;

  std::string model_;
  Variant default_ = Variant::kSage2Int8;
  std::vector<TableRule> rules_;
  std::string source_;
  SourceLocation model_where_;
};

// A table decided for one model and step count: a dense [layers x steps] grid, so the lookup
// on every attention call is one bounds check and one load.
class ResolvedTable {
 public:
  int num_layers() const { return num_layers_; }
  int num_steps() const { return num_steps_; }

  // Throws std::out_of_range naming the index and the bound when layer or step is outside.
  Variant variant_for(int layer, int step) const {
    if (layer < 0 || layer >= num_layers_ || step < 0 || step >= num_steps_) {
      throw_out_of_range(layer, step);
    }
    return grid_[static_cast<std::size_t>(layer) * num_steps_ + step];
  }

  // How many (layer, step) cells run `variant` (for logs: "30% of calls in fp16").
  int count(Variant variant) const;

  // Legal but suspicious: rules that decide no (layer, step) because earlier rules cover all
  // they cover. One line each, "file:line:column: rules[i]: ..."; the caller logs them (the
  // pipeline: once per table and step count) and resolve itself stays silent, so tests and
  // the calibrator are not noisy.
  const std::vector<std::string>& warnings() const& { return warnings_; }
  // By value on a temporary, so `for (auto& w : table.resolve(...).warnings())` is safe.
  std::vector<std::string> warnings() && { return std::move(warnings_); }

 private:
  friend class PrecisionTable;
  ResolvedTable(int num_layers, int num_steps, std::vector<Variant> grid,
                std::vector<std::string> warnings);
  [[noreturn]] void throw_out_of_range(int layer, int step) const;

  int num_layers_ = 0;
  int num_steps_ = 0;
  std::vector<Variant> grid_;  // [layer * num_steps + step]
  std::vector<std::string> warnings_;
};

}  // namespace sageattn
