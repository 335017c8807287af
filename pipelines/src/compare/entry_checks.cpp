#include "entry_checks.h"

namespace sagegen::compare {
namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

EntryError::EntryError(std::size_t index, const std::string& detail)
    : RequestError({{"entries[" + std::to_string(index) + "]", ""}}, detail), index_(index) {}

std::vector<std::optional<sageattn::ResolvedTable>> resolve_table_entries(
    const std::vector<EntrySpec>& entries, const std::string& model_name, int attention_layers,
    int steps) {
  std::vector<std::optional<sageattn::ResolvedTable>> resolved(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].kind != EntrySpec::Kind::kTable) continue;
    try {
      resolved[i] = sageattn::PrecisionTable::load_file(entries[i].table_path)
                        .resolve(model_name, attention_layers, steps);
    } catch (const sageattn::TableError& e) {
      // The table's message names its file, line and key.
      throw EntryError(i, first_line(e.what()));
    }
  }
  return resolved;
}

void check_table_entries(const std::vector<EntrySpec>& entries, const ModelConfig& model,
                         int steps) {
  resolve_table_entries(entries, model.name, model.dit_attention_layers(), steps);
}

void check_entries_run(const std::vector<EntrySpec>& entries,
                       const std::vector<std::optional<sageattn::ResolvedTable>>& tables,
                       const Pipeline& pipeline) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const EntrySpec& entry = entries[i];
    if (entry.kind == EntrySpec::Kind::kVariant) {
      const std::string why = pipeline.why_variant_unsupported(entry.variant);
      if (!why.empty()) {
        throw EntryError(i, std::string(sageattn::to_string(entry.variant)) + " cannot run on " +
                                pipeline.device_name() + ": " + first_line(why));
      }
      continue;
    }
    for (const std::string& name : sageattn::variant_names()) {
      const sageattn::Variant variant = *sageattn::parse_variant(name);
      if (tables[i]->count(variant) == 0) continue;
      const std::string why = pipeline.why_variant_unsupported(variant);
      if (!why.empty()) {
        throw EntryError(i, entry.table_path + ": uses " + name + ", which cannot run on " +
                                pipeline.device_name() + ": " + first_line(why));
      }
    }
  }
}

}  // namespace sagegen::compare
