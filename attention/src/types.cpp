#include "sageattn/types.h"

#include <array>
#include <utility>

namespace sageattn {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Variant, 5> kVariantNames{{{Variant::kSage2Int8, "sage2-8b"},
                                               {Variant::kSage2Int4, "sage2-4b"},
                                               {Variant::kSage1, "sage1"},
                                               {Variant::kFp16, "fp16"},
                                               {Variant::kAuto, "auto"}}};
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

std::string_view to_string(Variant v) { return name_of(kVariantNames, v); }
std::string_view to_string(Engine e) { return name_of(kEngineNames, e); }
std::string_view to_string(Layout l) { return name_of(kLayoutNames, l); }
std::string_view to_string(Granularity g) { return name_of(kGranularityNames, g); }
std::string_view to_string(KernelFamily f) { return name_of(kKernelFamilyNames, f); }
std::string_view to_string(Route r) { return name_of(kRouteNames, r); }

std::optional<Variant> parse_variant(std::string_view name) { return parse(kVariantNames, name); }
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
    for (const auto& [v, name] : kVariantNames) out.emplace_back(name);
    return out;
  }();
  return names;
}

Granularity default_granularity(Variant v) {
  // sage2-8b and sage2-4b: one scale per thread's rows (the official SageAttention2 default);
  // it costs the kernels nothing (a thread reads one Q scale either way) and measured more
  // accurate on outlier inputs (docs/numerics.md).
  return v == Variant::kSage1 ? Granularity::kPerWarp : Granularity::kPerThread;
}

}  // namespace sageattn
