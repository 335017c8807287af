// The CUDA backend of a build without CUDA kernels: every request is refused with the reason,
// so why_unsupported() and run() agree.
#include <c10/util/Exception.h>

#include "cuda_backend.h"

namespace sageattn::cuda_backend {
namespace {

constexpr const char* kNoKernels =
    "this libsageattn has no CUDA kernels (configured with SAGEGEN_CUDA=OFF or without nvcc)";

}  // namespace

bool compiled() { return false; }

std::string why_unsupported(const Problem& /*problem*/, Variant /*variant*/) { return kNoKernels; }

KernelNumerics numerics(const Problem& /*problem*/, Variant /*variant*/) { return kMmaNumerics; }

int device_arch(int /*device*/) { return 0; }

AttentionResult run(const Problem& /*problem*/, Variant variant, const at::Tensor& /*q*/,
                    const at::Tensor& /*k*/, const at::Tensor& /*v*/,
                    const AttentionOptions& /*options*/) {
  TORCH_CHECK(false, "sageattn::attention: variant ", to_string(variant), ": ", kNoKernels);
}

void quantize_only(const Problem& /*problem*/, Variant variant, const at::Tensor& /*q*/,
                   const at::Tensor& /*k*/, const at::Tensor& /*v*/,
                   const AttentionOptions& /*options*/) {
  TORCH_CHECK(false, "sageattn::quantize_only: variant ", to_string(variant), ": ", kNoKernels);
}

}  // namespace sageattn::cuda_backend
