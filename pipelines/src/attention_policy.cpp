#include "attention_policy.h"

#include <fmt/format.h>

#include <utility>

namespace sagegen {

AttentionPolicy resolve_attention_policy(const ModelConfig& config,
                                         const sageattn::PrecisionTable* table,
                                         const std::string& table_path,
                                         std::optional<sageattn::Variant> attention, int steps) {
  const int layers = config.dit_attention_layers();
  std::string description;
  sageattn::PrecisionTable chosen = sageattn::PrecisionTable::uniform(
      config.name, attention.value_or(sageattn::Variant::kAuto));
  if (attention) {
    description = fmt::format("--attention {}", sageattn::to_string(*attention));
  } else if (table != nullptr) {
    chosen = *table;
    description = "table " + table_path;
  } else {
    description = "no table: auto";
  }
  // The table alone first: its errors and its shadowed rules are the user's; the model's rules
  // come after it and may decide nothing when the table's rules cover their layers.
  sageattn::ResolvedTable own = chosen.resolve(config.name, layers, steps);
  std::vector<std::string> warnings = std::move(own).warnings();
  if (config.precision_rules.empty()) return {std::move(own), description, std::move(warnings)};
  for (const sageattn::TableRule& rule : config.precision_rules) {
    description += fmt::format("; model rule {}: {}", sageattn::to_string(rule.layers),
                               sageattn::to_string(rule.variant));
    if (!rule.steps.is_all()) description += fmt::format(" at steps {}", sageattn::to_string(rule.steps));
  }
  return {chosen.with_rules_before_default(config.precision_rules).resolve(config.name, layers, steps),
          description, std::move(warnings)};
}

}  // namespace sagegen
