// The output step both attention kernel families end with: one thread's two adjacent channels
// of one row, O = buf / l * v_factor + v_mean, cast to the output dtype and stored through the
// output's strides.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/params.h"

namespace sageattn::cuda {

// Channels c, c + 1 (c even, c < head_dim) of the row at out_off. pair_stores: head_dim and the
// strides are even, so the two values go out as one aligned 32-bit store.
__device__ __forceinline__ void store_output_pair(const AttentionParams& p, std::int64_t out_off,
                                                  int c, float buf0, float buf1, float l,
                                                  const float* v_factor, const float* v_mean,
                                                  bool pair_stores) {
  float x[2] = {buf0 / l, buf1 / l};
#pragma unroll
  for (int e = 0; e < 2; ++e) {
    if (v_factor != nullptr) x[e] *= v_factor[c + e];
    if (v_mean != nullptr) x[e] += v_mean[c + e];
  }
  if (p.out_type == ElemType::kBf16) {
    auto* dst = static_cast<__nv_bfloat16*>(p.out) + out_off + c;
    if (pair_stores) {
      *reinterpret_cast<__nv_bfloat162*>(dst) = __floats2bfloat162_rn(x[0], x[1]);
    } else {
      dst[0] = __float2bfloat16_rn(x[0]);
      if (c + 1 < p.head_dim) dst[1] = __float2bfloat16_rn(x[1]);
    }
  } else {
    auto* dst = static_cast<__half*>(p.out) + out_off + c;
    if (pair_stores) {
      *reinterpret_cast<__half2*>(dst) = __floats2half2_rn(x[0], x[1]);
    } else {
      dst[0] = __float2half_rn(x[0]);
      if (c + 1 < p.head_dim) dst[1] = __float2half_rn(x[1]);
    }
  }
}

}  // namespace sageattn::cuda
