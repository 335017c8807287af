// What decides the precision of every DiT attention call of one generation (docs/tables.md,
// "Model rules"): the request's --attention variant everywhere, else its table, else auto; and
// under any of them the model's own precision rules (ModelConfig::precision_rules), which
// decide what that table's rules leave to its default. The one place the two meet.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sageattn/table.h"
#include "sagegen/model_config.h"

namespace sagegen {

struct AttentionPolicy {
  sageattn::ResolvedTable table;  // [model's attention layers x steps]
  // For the log line: "table configs/tables/x.yaml", "--attention sage2-8b" or "no table: auto",
  // then "; model rule blocks.*.attn2: fp16" for each model rule.
  std::string description;
  // The table's own rules that decide nothing (earlier rules shadow them), one line each; never
  // the model's rules, which a table may override entirely.
  std::vector<std::string> warnings;
};

// table: the request's table (nullptr: none), table_path its file. Throws sageattn::TableError
// when the table is for another model or names layers or steps outside the model or the run.
AttentionPolicy resolve_attention_policy(const ModelConfig& config,
                                         const sageattn::PrecisionTable* table,
                                         const std::string& table_path,
                                         std::optional<sageattn::Variant> attention, int steps);

}  // namespace sagegen
