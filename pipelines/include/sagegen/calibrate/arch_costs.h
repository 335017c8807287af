// Relative cost of one attention call per variant on one GPU architecture, from a small YAML
// file under configs/costs/ (<arch>.yaml). The ladder calibration picks, per (layer, step), the
// cheapest variant that meets its quality floor; a variant the file does not list does not run
// on that arch and is never picked. Schema and sources: docs/calibration.md.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "sageattn/types.h"

namespace sagegen::calibrate {

struct ArchCosts {
  std::string arch;    // "sm90"
  std::string source;  // where the figures come from (the file's `source`)
  bool measured = false;  // false: estimates (the file says from what)
  std::string path;       // the file read
  // The sequence length (sqrt(L_q * L_k)) the costs were measured at; 0 when the file does not
  // say (estimates). Lets the costs be checked against where `auto` picks sage2-8b.
  int length = 0;
  // head dim -> variant -> relative time of one call (fp16 = 1 by convention; lower is cheaper)
  std::map<int, std::map<sageattn::Variant, double>> costs;

  // The cost at the listed head dim nearest to head_dim (ties: the larger); nullopt when the
  // arch does not run `variant`.
  std::optional<double> cost(sageattn::Variant variant, int head_dim) const;
};

// Reads and checks a costs file; ConfigError "<file>:<line>: <key>: <problem>" for unknown keys,
// unknown variants, a variant without a kernel on the arch (sageattn/variants.h), costs <= 0, a
// head dim without fp16, an empty `costs` mapping.
ArchCosts load_arch_costs(const std::string& path);

// "sm90", "sm_90" or "90" -> "sm90"; nullopt for anything else.
std::optional<std::string> normalize_arch(const std::string& text);
// 90 -> "sm90".
std::string arch_name(int sm);

// configs/costs/<arch>.yaml under the usual config roots ($SAGEGEN_ROOT, the working directory,
// the executable's directory and their parents). ConfigError listing the places searched.
std::string find_costs_file(const std::string& arch);

}  // namespace sagegen::calibrate
