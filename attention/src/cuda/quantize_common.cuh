// Device helpers shared by the quantization CTAs (channel_stats.cuh, quantize_rows.cuh,
// quantize_v.cuh).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/params.h"

namespace sageattn::cuda {

// 256 threads: each moves 16-byte chunks (8 channels) of several rows, so a warp reads whole
// rows of 64/128 channels per instruction.
inline constexpr int kQuantThreads = 256;
inline constexpr int kChannelsPerChunk = 8;

// Channels c0..c0+7 of one row as they are stored (8 x 16 bits), zeros outside [0, head_dim)
// and for rows past the end: the quantization kernels keep rows packed between their passes.
__device__ __forceinline__ uint4 load_raw_chunk(const std::uint16_t* row, bool row_valid, int c0,
                                                int head_dim, bool vector_loads) {
  if (!row_valid) return make_uint4(0u, 0u, 0u, 0u);
  if (vector_loads && c0 + kChannelsPerChunk <= head_dim) {
    return *reinterpret_cast<const uint4*>(row + c0);
  }
  std::uint32_t w[4] = {0u, 0u, 0u, 0u};
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) {
    const int c = c0 + j;
    const std::uint32_t bits = c < head_dim ? row[c] : 0u;
    w[j / 2] |= bits << (16 * (j % 2));
  }
  return make_uint4(w[0], w[1], w[2], w[3]);
}

__device__ __forceinline__ void unpack_chunk(const uint4& raw, ElemType type,
                                             float (&v)[kChannelsPerChunk]) {
  const std::uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
  if (type == ElemType::kBf16) {
    // A bf16 is the high half of its float: one shift or mask per value.
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      v[2 * j] = __uint_as_float(words[j] << 16);
      v[2 * j + 1] = __uint_as_float(words[j] & 0xFFFF0000u);
    }
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&words[j]));
      v[2 * j] = f.x;
      v[2 * j + 1] = f.y;
    }
  }
}

// x rounded to the nearest integer (ties to even) in the low bits of the returned float's bit
// pattern, for |x| < 2^22: adding 1.5 * 2^23 leaves no fraction bits. Same integer as
// __float2int_rn(x), on the FMA pipe instead of the quarter-rate conversion unit.
__device__ __forceinline__ std::uint32_t round_to_int_bits(float x) {
  return __float_as_uint(x + 12582912.0f);
}

}  // namespace sageattn::cuda
