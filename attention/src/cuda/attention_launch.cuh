// Launch and availability helpers for one instantiation of attention_kernel.
#pragma once

#include <cuda_runtime.h>

#include "cuda/attention_kernel.cuh"

namespace sageattn::cuda {

template <int kDp, QkBits kBits, PvType kPv>
void launch_attention_instance(const AttentionParams& p, cudaStream_t stream) {
  using T = AttentionTile<kDp, kBits, kPv>;
  auto* kernel = attention_kernel<kDp, kBits, kPv>;
  // Above 48 KB a kernel must opt in to dynamic shared memory; an error here surfaces in the
  // caller's launch check.
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSmemBytes);
  const dim3 grid(p.len_q_pad / T::kBlockQ, p.heads_q, p.batch);
  kernel<<<grid, T::kThreads, T::kSmemBytes, stream>>>(p);
}

template <int kDp, QkBits kBits, PvType kPv>
const char* attention_instance_missing() {
  cudaFuncAttributes attributes;
  const cudaError_t err = cudaFuncGetAttributes(&attributes, attention_kernel<kDp, kBits, kPv>);
  if (err == cudaSuccess) return "";
  cudaGetLastError();  // clear the sticky-free error so the next launch check is not confused
  return cudaGetErrorString(err);
}

}  // namespace sageattn::cuda
