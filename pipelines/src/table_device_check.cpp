#include "table_device_check.h"

#include <map>

#include "sagegen/errors.h"

namespace sagegen {

void check_table_variants_run(const sageattn::PrecisionTable& table, const std::string& device,
                              const std::function<std::string(sageattn::Variant)>& why_not) {
  std::map<sageattn::Variant, std::string> reasons;  // one probe per variant
  const auto reason_for = [&](sageattn::Variant variant) -> const std::string& {
    auto found = reasons.find(variant);
    if (found == reasons.end()) {
      const bool always_runs =
          variant == sageattn::Variant::kFp16 || variant == sageattn::Variant::kAuto;
      found = reasons.emplace(variant, always_runs ? std::string() : why_not(variant)).first;
    }
    return found->second;
  };
  const auto fail = [&](sageattn::SourceLocation where, const std::string& key,
                        sageattn::Variant variant, const std::string& reason) {
    throw ConfigError(sageattn::TableError(std::move(where), key,
                                           std::string(sageattn::to_string(variant)) +
                                               " cannot run on " + device + ": " + reason)
                          .what());
  };
  const auto& rules = table.rules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string& reason = reason_for(rules[i].variant);
    if (!reason.empty()) {
      fail(rules[i].where, "rules[" + std::to_string(i) + "].variant", rules[i].variant, reason);
    }
  }
  const std::string& reason = reason_for(table.default_variant());
  if (!reason.empty()) {
    fail(sageattn::SourceLocation{table.source_name()}, "default", table.default_variant(), reason);
  }
}

}  // namespace sagegen
