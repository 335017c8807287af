// A table that names a variant this device cannot run is refused when the pipeline loads it,
// naming the rule (file, line, key), instead of failing at the first attention call mid-run.
#pragma once

#include <functional>
#include <string>

#include "sageattn/table.h"

namespace sagegen {

// why_not(variant): empty when `variant` runs here, otherwise the reason. fp16 and auto always
// run (auto falls back to fp16) and are not asked about. Throws ConfigError
//   "<file>:<line>:<column>: rules[i].variant: sage2-8b cannot run on cuda:0: <reason>"
// for the first rule (or "<file>: default: ...") whose variant does not run.
void check_table_variants_run(const sageattn::PrecisionTable& table, const std::string& device,
                              const std::function<std::string(sageattn::Variant)>& why_not);

}  // namespace sagegen
