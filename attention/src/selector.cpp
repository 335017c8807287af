#include "selector.h"

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "cuda_backend.h"
#include "env_choice.h"
#include "sageattn/variants.h"

namespace sageattn {
namespace {

// The widest head dim any kernel takes: above it engine auto runs torch SDPA (see select_route).
constexpr int64_t kMaxKernelHeadDim = kKernelHeadDims.back();

std::string sm_name(int sm) { return "sm_" + std::to_string(sm); }

// A kernel plan for the problem, or the reason no kernel of `variant` runs it. Every kernel
// family considered and not taken is appended to `rejected`.
struct PlanOrReason {
  std::optional<KernelPlan> plan;
  std::string reason;
};

// The split of the last wave's tiles over their keys (tiles.h KeySplit) is on unless
// SAGEATTN_WGMMA_KEY_SPLIT=off (A/B runs in one binary, and bisecting).
bool key_split_enabled() {
  static const bool enabled =
      env_choice<bool>("SAGEATTN_WGMMA_KEY_SPLIT", {{"auto", true}, {"off", false}});
  return enabled;
}

std::string missing_image(const DeviceFacts& facts, KernelFamily family, Variant variant,
                          int dp) {
  const auto it = facts.missing_images.find({family, variant, dp});
  return it == facts.missing_images.end() ? std::string() : it->second;
}

PlanOrReason plan_kernel(const Problem& p, Variant variant, KernelFamily request,
                         const DeviceFacts& facts, std::vector<std::string>& rejected) {
  PlanOrReason out;
  const auto refuse = [&](std::string reason) {
    out.reason = std::move(reason);
    return out;
  };
  if (!is_quantized(variant)) {
    return refuse(fmt::format("the CUDA kernels run sage2-8b, sage2-4b and sage1, not {}",
                              to_string(variant)));
  }
  const VariantFacts& vf = variant_facts(variant);
  if (!p.device.is_cuda()) {
    return refuse("the inputs are on " + p.device.str() + "; the CUDA kernels need CUDA tensors");
  }
  if (!facts.no_kernels.empty()) return refuse(facts.no_kernels);
  if (!vf.kernel_takes_half_and_bf16 || (p.dtype != at::kHalf && p.dtype != at::kBFloat16)) {
    return refuse(fmt::format("dtype {}: the CUDA kernels take Half or BFloat16 inputs",
                              c10::toString(p.dtype)));
  }
  const int sm = facts.arch;
  const std::string where = fmt::format("device {} is {}", facts.index, sm_name(sm));
  if (sm < vf.min_arch) {
    return refuse(fmt::format("{} needs {} or newer ({}); {}", to_string(variant),
                              sm_name(vf.min_arch), vf.min_arch_why, where));
  }
  const int dp = padded_head_dim(variant, p.head_dim);
  if (dp == 0) {
    // 128 < D <= 256: no 256-wide instantiation (its accumulators would not fit the registers).
    return refuse(fmt::format(
        "head_dim {} has no CUDA kernel (the kernels are {} and {} channels wide; smaller head "
        "dims are zero-padded to them)",
        p.head_dim, vf.native_head_dims[0], vf.native_head_dims[1]));
  }
  // wgmma exists on sm_90a only (sm_100 has none); sage2-4b has no s4 wgmma, and sage1 keeps
  // its FP16-PV mma.sync kernel (the facts' wgmma_arch).
  std::string no_wgmma;
  if (sm != 90) {
    no_wgmma = "wgmma needs sm_90; " + where;
  } else if (vf.wgmma_arch != sm) {
    no_wgmma = "the wgmma kernel runs sage2-8b only";
  } else if (const std::string missing = missing_image(facts, KernelFamily::kWgmma, variant, dp);
             !missing.empty()) {
    no_wgmma = "no sm_90a image of the wgmma kernel in this build (" + missing +
               "); rebuild with 90a in SAGEGEN_CUDA_ARCHS";
  }
  if (request != KernelFamily::kMma && no_wgmma.empty()) {
    KernelPlan plan;
    plan.family = KernelFamily::kWgmma;
    plan.padded_dim = dp;
    plan.numerics = kWgmmaNumerics;
    // The tiles per head dim (tiles.h): three consumers at hd128, four at hd64 (H200, run 66:
    // hd64 L4096 458-461 -> 498-500 TOPS, L16384 592 -> 630-631); wgmma2 pins two.
    if (request == KernelFamily::kWgmma2) {
      plan.numerics.tiles = kWgmmaTiles2;
    } else if (dp == 64) {
      plan.numerics.tiles = kWgmmaTiles4;
    }
    const TileShape& tiles = plan.numerics.tiles;
    const long long tile_count =
        p.batch * p.heads_q * ((p.len_q + tiles.block_q - 1) / tiles.block_q);
    const int k_blocks = static_cast<int>((p.len_k + tiles.block_k - 1) / tiles.block_k);
    // The last wave's tiles split over their keys (tiles.h KeySplit): at hd128 +3-6% at the
    // long shapes, FLUX 652 -> 690 TOPS (H200, run 69); at hd64 since the tenth session.
    plan.numerics.key_split = key_split_enabled()
                                  ? plan_key_split(tile_count, k_blocks, facts.sm_count, p.causal)
                                  : KeySplit{0, 1, k_blocks};
    plan.numerics.q_lead_rows = causal_q_lead_rows(p.len_q, tiles.block_q, p.causal);
    out.plan = plan;
    return out;
  }
  if (request == KernelFamily::kWgmma || request == KernelFamily::kWgmma2) {
    return refuse(fmt::format("kernel family {}: {}", to_string(request), no_wgmma));
  }
  rejected.push_back(request == KernelFamily::kMma
                         ? std::string("wgmma: kernel family mma was asked for")
                         : "wgmma: " + no_wgmma);
  if (const std::string missing = missing_image(facts, KernelFamily::kMma, variant, dp);
      !missing.empty()) {
    return refuse(fmt::format(
        "{} has no kernel image for {} in this build ({}); rebuild with its architecture in "
        "SAGEGEN_CUDA_ARCHS",
        to_string(variant), sm_name(sm), missing));
  }
  KernelPlan plan;
  plan.family = KernelFamily::kMma;
  plan.padded_dim = dp;
  plan.numerics = kMmaNumerics;
  out.plan = plan;
  return out;
}

// Variant auto: sage2-8b where its kernel runs and, on an arch with measured crossovers, where
// the sequence is long enough for it to beat torch SDPA; full precision (SDPA) otherwise.
// `fallback` gets the reason when auto does not pick sage2-8b.
Variant resolve_auto(const Problem& problem, KernelFamily family, const DeviceFacts& facts,
                     std::string& fallback, std::vector<std::string>& rejected) {
  if (!problem.device.is_cuda()) {
    rejected.emplace_back("sage2-8b: variant auto runs the quantized kernels on CUDA tensors only");
    return Variant::kFp16;
  }
  std::vector<std::string> ignored;
  const PlanOrReason int8 = plan_kernel(problem, Variant::kSage2Int8, family, facts, ignored);
  if (!int8.plan) {
    fallback = "variant auto falls back to fp16 (sage2-8b: " + int8.reason + ")";
    rejected.push_back("sage2-8b: " + int8.reason);
    return Variant::kFp16;
  }
  const double len =
      std::sqrt(static_cast<double>(problem.len_q) * static_cast<double>(problem.len_k));
  if (auto_prefers_sage2_int8(facts.arch, problem.head_dim, len, problem.causal)) {
    return Variant::kSage2Int8;
  }
  const AutoCrossover* crossover = auto_crossover(facts.arch, problem.head_dim, problem.causal);
  const std::string why =
      crossover->min_len == kAutoNever
          ? fmt::format("torch SDPA is faster at every measured length on {} (hd{}{})",
                        sm_name(crossover->arch), crossover->head_dim_class,
                        crossover->causal ? " causal" : "")
          : fmt::format("torch SDPA is faster below {} tokens on {} (hd{}{})", crossover->min_len,
                        sm_name(crossover->arch), crossover->head_dim_class,
                        crossover->causal ? " causal" : "");
  rejected.push_back("sage2-8b: " + why);
  fallback = "variant auto runs fp16: " + why;
  return Variant::kFp16;
}

Selection none(Selection s, std::string reason) {
  s.route = Route::kNone;
  s.reason = std::move(reason);
  return s;
}

}  // namespace

Selection select_route(const Problem& problem, const AttentionOptions& options,
                       const DeviceFacts& facts) {
  Selection s;
  s.requested = options.variant;
  s.variant = options.variant == Variant::kAuto
                  ? resolve_auto(problem, options.kernel_family, facts, s.fallback, s.rejected)
                  : options.variant;
  const std::string device = problem.device.str();
  if (options.engine == Engine::kGolden) {
    s.route = Route::kGolden;
    return s;
  }
  if (options.engine == Engine::kKernel && !problem.device.is_cuda()) {
    return none(std::move(s), "engine kernel needs CUDA tensors, but q is on " + device +
                                  " (use engine auto or golden)");
  }
  if (s.variant == Variant::kFp16) {
    s.route = Route::kSdpa;
    return s;
  }
  if (problem.device.is_cpu()) {
    s.rejected.emplace_back("cuda-kernel: the inputs are on cpu");
    s.route = Route::kGolden;
    return s;
  }
  if (!problem.device.is_cuda()) {
    return none(std::move(s), fmt::format("variant {} has no kernel for device {} (use engine "
                                          "golden, or variant fp16)",
                                          to_string(s.variant), device));
  }
  PlanOrReason kernel = plan_kernel(problem, s.variant, options.kernel_family, facts, s.rejected);
  if (kernel.plan) {
    s.route = Route::kCudaKernel;
    s.plan = *kernel.plan;
    return s;
  }
  s.rejected.push_back("cuda-kernel: " + kernel.reason);
  if (options.engine == Engine::kAuto && problem.head_dim > kMaxKernelHeadDim) {
    // No kernel this wide: engine auto (and so the adaptive tables) runs torch SDPA on the GPU
    // rather than the CPU golden model, and says so (attention() logs it once).
    s.fallback = fmt::format("variant {} on {}: {}; running torch SDPA (fp16) instead",
                             to_string(s.variant), device, kernel.reason);
    s.variant = Variant::kFp16;
    s.route = Route::kSdpa;
    return s;
  }
  return none(std::move(s), fmt::format("variant {} on {}: {}", to_string(s.variant), device,
                                        kernel.reason));
}

Selection select_route(const Problem& problem, const AttentionOptions& options) {
  AttentionOptions effective = options;
  if (effective.kernel_family == KernelFamily::kAuto) {
    effective.kernel_family = kernel_family_from_env();
  }
  if (!problem.device.is_cuda()) return select_route(problem, effective, DeviceFacts{});
  const int device =
      problem.device.has_index() ? problem.device.index() : cuda_backend::current_device();
  return select_route(problem, effective, cuda_backend::device_facts(device));
}

KernelFamily kernel_family_from_env() {
  static constexpr const char* kFamilyEnv = "SAGEATTN_KERNEL_FAMILY";
  static const std::string value = [] {
    const char* text = std::getenv(kFamilyEnv);
    return std::string(text == nullptr ? "" : text);
  }();
  if (value.empty()) return KernelFamily::kAuto;
  const std::optional<KernelFamily> family = parse_kernel_family(value);
  TORCH_CHECK(family.has_value(), "sageattn: environment variable ", kFamilyEnv, "='", value,
              "' is not one of auto, mma, wgmma, wgmma2");
  return *family;
}

std::string Selection::describe() const {
  std::string text = fmt::format("{} on {}", to_string(variant), to_string(route));
  if (route == Route::kCudaKernel) {
    text += fmt::format(" ({}, hd {}, tiles {}x{}", to_string(plan.family), plan.padded_dim,
                        plan.numerics.tiles.block_q, plan.numerics.tiles.block_k);
    const KeySplit& split = plan.numerics.key_split;
    if (split.splits > 1) {
      text += fmt::format(", tiles from {} over {} key splits", split.first_tile, split.splits);
    }
    if (plan.numerics.q_lead_rows > 0) {
      text += fmt::format(", {} padding rows before Q", plan.numerics.q_lead_rows);
    }
    text += ")";
  }
  if (route == Route::kNone) text += ": " + reason;
  if (requested != variant) text += fmt::format(" (asked for {})", to_string(requested));
  return text;
}

}  // namespace sageattn
