#include "dispatch.h"

#include <spdlog/spdlog.h>

#include <atomic>

#include "cuda_backend.h"

namespace sageattn {
namespace {

bool is_quantized(Variant v) { return v != Variant::kFp16 && v != Variant::kAuto; }

// Variant auto: the fastest quantized kernel where it runs (sage2-8b: INT8 QK is the fast path
// on every supported arch, see design.md section 2), else full precision.
Variant resolve_auto(const Problem& problem) {
  if (!problem.device.is_cuda()) return Variant::kFp16;
  const std::string why = cuda_backend::why_unsupported(problem, Variant::kSage2Int8);
  if (why.empty()) return Variant::kSage2Int8;
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
  if (!why.empty()) {
    return none(variant, std::string("variant ") + std::string(to_string(variant)) + " on " +
                             device + ": " + why);
  }
  return Selection{Route::kCudaKernel, variant, {}};
}

}  // namespace sageattn
