#include "sageattn/types.h"

#include <array>
#include <utility>

#include "sageattn/variants.h"

namespace sageattn {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

// Variant names come from the variant facts (variants.h), plus "auto".
constexpr std::string_view kAutoName = "auto";
constexpr NameTable<Engine, 3> kEngineNames{
    {{Engine::kAuto, "auto"}, {Engine::kKernel, "kernel"}, {Engine::kGolden, "golden"}}};
constexpr NameTable<Layout, 2> kLayoutNames{{{Layout::kHND, "HND"}, {Layout::kNHD, "NHD"}}};
constexpr NameTable<Granularity, 3> kGranularityNames{{{Granularity::kPerBlock, "per-block"},
                                                       {Granularity::kPerWarp, "per-warp"},
                                                       {Granularity::kPerThread, "per-thread"}}};
constexpr NameTable<KernelFamily, 4> kKernelFamilyNames{{{KernelFamily::kAuto, "auto"},
                                                         {KernelFamily::kMma, "mma"},
                                                         {KernelFamily::kWgmma, "wgmma"},
                                                         {KernelFamily::kWgmma2, "wgmma2"}}};
constexpr NameTable<Route, 4> kRouteNames{{{Route::kNone, "none"},
                                           {Route::kGolden, "golden"},
                                           {Route::kSdpa, "sdpa"},
                                           {Route::kCudaKernel, "cuda-kernel"}}};

template <typename E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> parse(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Variant v) {
  if (v == Variant::kAuto) return kAutoName;
  const VariantFacts* facts = find_variant_facts(v);
  return facts == nullptr ? "?" : facts->name;
}
std::string_view to_string(Engine e) { return name_of(kEngineNames, e); }
std::string_view to_string(Layout l) { return name_of(kLayoutNames, l); }
std::string_view to_string(Granularity g) { return name_of(kGranularityNames, g); }
std::string_view to_string(KernelFamily f) { return name_of(kKernelFamilyNames, f); }
std::string_view to_string(Route r) { return name_of(kRouteNames, r); }

std::optional<Variant> parse_variant(std::string_view name) {
  if (name == kAutoName) return Variant::kAuto;
  for (const VariantFacts& facts : kVariantFacts) {
    if (facts.name == name) return facts.variant;
  }
  return std::nullopt;
}
std::optional<Engine> parse_engine(std::string_view name) { return parse(kEngineNames, name); }
std::optional<Layout> parse_layout(std::string_view name) { return parse(kLayoutNames, name); }
std::optional<Granularity> parse_granularity(std::string_view name) {
  return parse(kGranularityNames, name);
}
std::optional<KernelFamily> parse_kernel_family(std::string_view name) {
  return parse(kKernelFamilyNames, name);
}

const std::vector<std::string>& variant_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const VariantFacts& facts : kVariantFacts) out.emplace_back(facts.name);
    out.emplace_back(kAutoName);
    return out;
  }();
  return names;
}

Granularity default_granularity(Variant v) {
  // auto resolves to sage2-8b or fp16 later; sage2-8b's default is the one that matters.
  const VariantFacts* facts = find_variant_facts(v == Variant::kAuto ? Variant::kSage2Int8 : v);
  return facts->default_granularity;
}

bool default_smooth_q(Variant v) {
  // INT4 has 15 levels: the Q channel means eat them, and smoothing lifts cos 0.977 -> 0.985.
  // INT8 measured the same with and without (0.999796 / 0.999795, docs/numerics.md) while the
  // delta_s term costs a GEMM, a [B, H, Q blocks, L_k] FP32 tensor and two instructions per score
  // in the kernels; the official SageAttention2 8-bit kernels do not smooth Q either.
  return v == Variant::kSage2Int4;
}

}  // namespace sageattn
