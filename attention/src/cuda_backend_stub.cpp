// The CUDA backend of a build without CUDA kernels: its device facts say so, so the selector
// refuses every kernel request with that reason, and run() is never reached.
#include <c10/util/Exception.h>

#include "cuda_backend.h"

namespace sageattn::cuda_backend {
namespace {

constexpr const char* kNoKernels =
    "this libsageattn has no CUDA kernels (configured with SAGEGEN_CUDA=OFF or without nvcc)";

}  // namespace

bool compiled() { return false; }

const DeviceFacts& device_facts(int /*device*/) {
  static const DeviceFacts facts = [] {
    DeviceFacts f;
    f.no_kernels = kNoKernels;
    return f;
  }();
  return facts;
}

int current_device() { return 0; }

AttentionResult run(const Problem& /*problem*/, Variant variant, const KernelPlan& /*plan*/,
                    const at::Tensor& /*q*/, const at::Tensor& /*k*/, const at::Tensor& /*v*/,
                    const AttentionOptions& /*options*/) {
  TORCH_CHECK(false, "sageattn::attention: variant ", to_string(variant), ": ", kNoKernels);
}

void quantize_only(const Problem& /*problem*/, Variant variant, const KernelPlan& /*plan*/,
                   const at::Tensor& /*q*/, const at::Tensor& /*k*/, const at::Tensor& /*v*/,
                   const AttentionOptions& /*options*/) {
  TORCH_CHECK(false, "sageattn::quantize_only: variant ", to_string(variant), ": ", kNoKernels);
}

ChannelMeans channel_means(const Problem& /*problem*/, Variant variant, const KernelPlan& /*plan*/,
                           const at::Tensor& /*q*/, const at::Tensor& /*k*/,
                           const at::Tensor& /*v*/, const AttentionOptions& /*options*/) {
  TORCH_CHECK(false, "sageattn::cuda_backend::channel_means: variant ", to_string(variant), ": ",
              kNoKernels);
}

OutputStore output_store() { return OutputStore::kAuto; }

void set_output_store(OutputStore /*store*/) {}

WgmmaGrid wgmma_grid() { return WgmmaGrid::kPersistent; }

int wgmma_grid_max_ctas() { return 0; }

void set_wgmma_grid(WgmmaGrid /*grid*/, int /*max_ctas*/) {}

bool programmatic_launch() { return true; }

void set_programmatic_launch(bool /*on*/) {}

std::string output_tma_unfit(const at::Tensor& /*out*/, Layout /*layout*/) { return kNoKernels; }

}  // namespace sageattn::cuda_backend
