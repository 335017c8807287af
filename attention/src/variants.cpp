#include "sageattn/variants.h"

#include <c10/util/Exception.h>

namespace sageattn {

const VariantFacts& variant_facts(Variant v) {
  const VariantFacts* facts = find_variant_facts(v);
  TORCH_CHECK(facts != nullptr, "sageattn::variant_facts: variant ", to_string(v),
              " has no facts of its own (auto resolves to a concrete variant first)");
  return *facts;
}

const AutoCrossover* auto_crossover(int arch, std::int64_t head_dim, bool causal) {
  const int head_class = padded_head_dim(Variant::kSage2Int8, head_dim);
  for (const AutoCrossover& c : kAutoCrossovers) {
    if (c.arch == arch && c.head_dim_class == head_class && c.causal == causal) return &c;
  }
  return nullptr;
}

bool auto_prefers_sage2_int8(int arch, std::int64_t head_dim, double len, bool causal) {
  const AutoCrossover* crossover = auto_crossover(arch, head_dim, causal);
  return crossover == nullptr || len >= static_cast<double>(crossover->min_len);
}

}  // namespace sageattn
