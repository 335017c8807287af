// The boundary between the device-independent selector and the CUDA kernels. Built from
// src/cuda/ when CUDA is compiled, from cuda_backend_stub.cpp otherwise. The backend decides
// nothing: it reports the facts of a device and launches the plan the selector chose.
#pragma once

#include "problem.h"
#include "sageattn/attention.h"
#include "sageattn/selection.h"

namespace sageattn::cuda_backend {

// True when this build contains the CUDA kernels.
bool compiled();

// The selector's facts about CUDA device `device` (arch, kernel images this build lacks for
// it), queried from the CUDA runtime once per device and cached for the process. A device that
// does not exist has arch 0; a build without kernels says so in no_kernels.
const DeviceFacts& device_facts(int device);

// The current CUDA device (for tensors whose device has no index); 0 without CUDA kernels.
int current_device();

// Runs the planned kernel; precondition: the selector chose Route::kCudaKernel with this plan.
AttentionResult run(const Problem& problem, Variant variant, const KernelPlan& plan,
                    const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const AttentionOptions& options);

// Only the quantization kernels run() would launch for the plan, their outputs discarded (the
// benchmark times them apart).
void quantize_only(const Problem& problem, Variant variant, const KernelPlan& plan,
                   const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const AttentionOptions& options);

// The token means the statistics kernel computes for the plan: K's (options.smooth_k) and V's
// (options.smooth_v), float32 [B, H_kv, D], undefined where that smoothing is off. For tests:
// the golden model's means must equal them bit for bit (docs/numerics.md, step 1).
struct ChannelMeans {
  at::Tensor k_mean, v_mean;
};
ChannelMeans channel_means(const Problem& problem, Variant variant, const KernelPlan& plan,
                           const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& options);

}  // namespace sageattn::cuda_backend
