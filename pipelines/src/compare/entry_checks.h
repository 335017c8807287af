// The checks run_comparison makes on its entries before any generation, so a bad entry fails
// in one line naming it, not after the reference has run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sagegen/compare/compare.h"

namespace sagegen::compare {

// Per entry, its table resolved for the model (nullopt for a variant entry). EntryError for the
// first table that cannot be read or is not for this model, its layers and `steps`.
std::vector<std::optional<sageattn::ResolvedTable>> resolve_table_entries(
    const std::vector<EntrySpec>& entries, const std::string& model_name, int attention_layers,
    int steps);

// Every variant entry, and every variant a resolved table uses, runs on the pipeline's device:
// EntryError naming the first entry that does not.
void check_entries_run(const std::vector<EntrySpec>& entries,
                       const std::vector<std::optional<sageattn::ResolvedTable>>& tables,
                       const Pipeline& pipeline);

}  // namespace sagegen::compare
