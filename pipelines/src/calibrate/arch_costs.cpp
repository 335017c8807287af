#include "sagegen/calibrate/arch_costs.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/yaml_errors.h"
#include "config_search.h"
#include "sageattn/variants.h"
#include "sagegen/errors.h"

namespace sagegen::calibrate {

std::optional<double> ArchCosts::cost(sageattn::Variant variant, int head_dim) const {
  const std::map<sageattn::Variant, double>* nearest = nullptr;
  int best_distance = 0;
  for (const auto& [dim, by_variant] : costs) {
    const int distance = std::abs(dim - head_dim);
    if (nearest == nullptr || distance <= best_distance) {  // ascending dims: ties go larger
      nearest = &by_variant;
      best_distance = distance;
    }
  }
  if (nearest == nullptr) return std::nullopt;
  const auto found = nearest->find(variant);
  if (found == nearest->end()) return std::nullopt;
  return found->second;
}

namespace {

ArchCosts read_arch_costs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open the costs file");
  std::ostringstream text;
  text << in.rdbuf();
  const YAML::Node root = strict_yaml::parse_document(text.str(), path);
  if (!root || root.IsNull()) {
    throw ConfigError(path + ": the costs file is empty (expected keys: arch, measured, source, costs)");
  }
  strict_yaml::StrictMap top(root, path, "");
  ArchCosts result;
  result.path = path;
  const std::string arch_text = top.required_string("arch");
  const auto arch = normalize_arch(arch_text);
  if (!arch) top.fail_at(top.required("arch"), "arch", "'" + arch_text + "' is not an arch like sm90");
  result.arch = *arch;
  const YAML::Node measured = top.required("measured");
  if (!measured.IsScalar() || !YAML::convert<bool>::decode(measured, result.measured)) {
    top.fail_at(measured, "measured", "expected true or false");
  }
  result.source = top.required_string("source");
  if (top.has("length")) result.length = top.required_int("length", 1);
  const int arch_number = std::stoi(result.arch.substr(2));

  strict_yaml::StrictMap costs = top.child("costs");
  const YAML::Node costs_node = top.required("costs");
  for (const auto& entry : costs_node) {
    const std::string dim_text = entry.first.as<std::string>();
    int head_dim = 0;
    if (!YAML::convert<int>::decode(entry.first, head_dim) || head_dim < 1) {
      costs.fail_at(entry.first, dim_text, "expected a head dim (a positive integer)");
    }
    strict_yaml::StrictMap by_variant(entry.second, path, "costs." + dim_text);
    std::map<sageattn::Variant, double>& listed = result.costs[head_dim];
    for (const auto& item : entry.second) {
      const std::string name = item.first.as<std::string>();
      const auto variant = sageattn::parse_variant(name);
      if (!variant || *variant == sageattn::Variant::kAuto) {
        by_variant.fail_at(item.first, name,
                           "unknown variant (one of: sage2-8b, sage2-4b, sage1, fp16)");
      }
      const sageattn::VariantFacts& facts = sageattn::variant_facts(*variant);
      if (facts.min_arch > arch_number) {
        by_variant.fail_at(item.first, name,
                           fmt::format("has no kernel on {} (it needs sm_{}: {})", result.arch,
                                       facts.min_arch, facts.min_arch_why));
      }
      double value = 0;
      if (!item.second.IsScalar() || !YAML::convert<double>::decode(item.second, value) ||
          !std::isfinite(value) || value <= 0) {
        by_variant.fail_at(item.second, name, "expected a relative cost > 0");
      }
      listed[*variant] = value;
    }
    if (listed.count(sageattn::Variant::kFp16) == 0) {
      by_variant.fail_at(entry.second, "fp16",
                         "missing (every head dim lists fp16, the ladder's fallback)");
    }
  }
  if (result.costs.empty()) top.fail_at(costs_node, "costs", "lists no head dim");
  top.reject_unknown_keys();
  return result;
}

}  // namespace

ArchCosts load_arch_costs(const std::string& path) {
  return config::with_config_errors([&] { return read_arch_costs(path); });
}

std::optional<std::string> normalize_arch(const std::string& text) {
  std::string digits = text;
  if (digits.rfind("sm_", 0) == 0) {
    digits = digits.substr(3);
  } else if (digits.rfind("sm", 0) == 0) {
    digits = digits.substr(2);
  }
  if (digits.size() < 2 || digits.size() > 3) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return "sm" + digits;
}

std::string arch_name(int sm) { return "sm" + std::to_string(sm); }

std::string find_costs_file(const std::string& arch) {
  std::error_code error;
  std::string searched;
  for (const std::filesystem::path& root : config_search_roots()) {
    const std::filesystem::path candidate = root / "configs" / "costs" / (arch + ".yaml");
    if (std::filesystem::is_regular_file(candidate, error)) return candidate.string();
    if (searched.size() < 400) searched += (searched.empty() ? " " : ", ") + candidate.string();
  }
  throw ConfigError({{"arch", arch}},
                    fmt::format("no costs file '{}.yaml' under configs/costs/ of $SAGEGEN_ROOT, "
                                "the working directory, the executable's directory or their "
                                "parents; searched:{}",
                                arch, searched));
}

}  // namespace sagegen::calibrate
