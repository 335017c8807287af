#include "dispatch.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>

#include "cuda_backend.h"

namespace sageattn {
namespace {

bool is_quantized(Variant v) { return v != Variant::kFp16 && v != Variant::kAuto; }

// Where auto may pick sage2-8b over torch SDPA (cuDNN) on an arch: from this sequence length
// on (sqrt(L_q * L_k)), per head-dim class and mask. Measured whole calls (quantization
// included), bf16, B2 H24, in one process (docs/benchmarks.md, 2026-11-30, NVIDIA H200):
//   hd128 full:   L 12288 sage2-8b 617 vs cuDNN 675 TOPS, L 16384 651 vs 643, L 32768 707 vs 623
//   hd128 causal: L 16384 556 vs 651, L 32768 644 vs 596
//   hd64 full:    cuDNN ahead at every length measured (L 32768: 432 vs 465)
// The widest head dim a CUDA kernel takes (cuda backend: 64 and 128, narrower ones padded).
constexpr int64_t kMaxKernelHeadDim = 128;

struct AutoCrossover {
  int arch;
  int64_t max_head_dim;  // the kernel's padded head dim class: 64 or 128
  bool causal;
  int64_t min_len;       // sage2-8b from here on; kNever: SDPA at every length
};
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr AutoCrossover kAutoCrossovers[] = {
    {90, 64, false, kNever},
    {90, 64, true, kNever},
    {90, 128, false, 16384},
    {90, 128, true, 32768},
};

// The measured crossover of this problem's arch, head-dim class and mask, or nullptr where none
// was measured (there auto keeps sage2-8b wherever its kernel runs).
const AutoCrossover* auto_crossover(const Problem& problem) {
  const int device = problem.device.has_index() ? problem.device.index() : 0;
  const int arch = cuda_backend::device_arch(device);
  const int64_t head_class = problem.head_dim <= 64 ? 64 : 128;
  for (const AutoCrossover& c : kAutoCrossovers) {
    if (c.arch == arch && c.max_head_dim == head_class && c.causal == problem.causal) return &c;
  }
  return nullptr;
}

// Variant auto: sage2-8b where its kernel runs and, on an arch with measured crossovers, where
// the sequence is long enough for it to beat torch SDPA; full precision (SDPA) otherwise.
Variant resolve_auto(const Problem& problem) {
  if (!problem.device.is_cuda()) return Variant::kFp16;
  const std::string why = cuda_backend::why_unsupported(problem, Variant::kSage2Int8);
  if (why.empty()) {
    const AutoCrossover* crossover = auto_crossover(problem);
    const double len = std::sqrt(static_cast<double>(problem.len_q) * static_cast<double>(problem.len_k));
    if (crossover == nullptr || len >= static_cast<double>(crossover->min_len)) {
      return Variant::kSage2Int8;
    }
    return Variant::kFp16;
  }
  static std::atomic<bool> logged{false};
  if (!logged.exchange(true)) {
    spdlog::info("sageattn: variant auto falls back to fp16 (sage2-8b: {})", why);
  }
  return Variant::kFp16;
}

Selection none(Variant variant, std::string reason) {
  return Selection{Route::kNone, variant, std::move(reason)};
}

}  // namespace

Selection select(const Problem& problem, const AttentionOptions& options) {
  const Variant variant =
      options.variant == Variant::kAuto ? resolve_auto(problem) : options.variant;
  if (options.engine == Engine::kGolden) return Selection{Route::kGolden, variant, {}};

  const std::string device = problem.device.str();
  if (options.engine == Engine::kKernel && !problem.device.is_cuda()) {
    return none(variant, "engine kernel needs CUDA tensors, but q is on " + device +
                             " (use engine auto or golden)");
  }
  if (variant == Variant::kFp16) return Selection{Route::kSdpa, variant, {}};
  if (is_quantized(variant) && problem.device.is_cpu()) {
    return Selection{Route::kGolden, variant, {}};
  }
  if (!problem.device.is_cuda()) {
    return none(variant, std::string("variant ") + std::string(to_string(variant)) +
                             " has no kernel for device " + device +
                             " (use engine golden, or variant fp16)");
  }
  std::string why = cuda_backend::why_unsupported(problem, variant);
  if (!why.empty() && options.engine == Engine::kAuto && problem.head_dim > kMaxKernelHeadDim) {
    // No kernel this wide: engine auto (and so the adaptive tables) runs torch SDPA on the GPU
    // rather than the CPU golden model, and says so once per variant.
    static std::array<std::atomic<bool>, 8> warned{};
    if (!warned[static_cast<std::size_t>(variant) % warned.size()].exchange(true)) {
      spdlog::warn("sageattn: variant {} on {}: {}; running torch SDPA (fp16) instead",
                   to_string(variant), device, why);
    }
    return Selection{Route::kSdpa, Variant::kFp16, {}};
  }
  if (!why.empty()) {
    return none(variant, std::string("variant ") + std::string(to_string(variant)) + " on " +
                             device + ": " + why);
  }
  return Selection{Route::kCudaKernel, variant, {}};
}

}  // namespace sageattn
