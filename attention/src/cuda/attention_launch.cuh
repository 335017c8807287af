// Launch and availability helpers for one instantiation of attention_kernel.
#pragma once

#include <cuda_runtime.h>

#include "cuda/attention_kernel.cuh"

namespace sageattn::cuda {

template <int kDp, QkBits kBits, PvType kPv>
void launch_attention_instance(const AttentionParams& p, cudaStream_t stream) {
  using T = AttentionTile<kDp, kBits, kPv>;
  auto* kernel = attention_kernel<kDp, kBits, kPv>;
  // Above 48 KB a kernel must opt in to dynamic shared memory. If that fails, launching would
  // only fail again: return, and the caller's launch check (cudaGetLastError) reports this error.
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSmemBytes) !=
      cudaSuccess) {
    return;
  }
  const dim3 grid(p.len_q_pad / T::kBlockQ, p.heads_q, p.batch);
  kernel<<<grid, T::kThreads, T::kSmemBytes, stream>>>(p);
}

// Empty when `kernel` has an image for the current device, else the runtime's reason.
inline const char* kernel_image_missing(const void* kernel) {
  cudaFuncAttributes attributes;
  const cudaError_t err = cudaFuncGetAttributes(&attributes, kernel);
  if (err == cudaSuccess) return "";
  // Clear the (non-sticky) error so the next launch check is not confused; its value is `err`.
  (void)cudaGetLastError();
  return cudaGetErrorString(err);
}

template <int kDp, QkBits kBits, PvType kPv>
const char* attention_instance_missing() {
  return kernel_image_missing(reinterpret_cast<const void*>(attention_kernel<kDp, kBits, kPv>));
}

}  // namespace sageattn::cuda
