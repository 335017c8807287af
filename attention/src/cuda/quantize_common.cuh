// Device helpers shared by the quantization kernels (quantize.cu, quantize_slices.cu).
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

__device__ __forceinline__ float elem_to_float(std::uint16_t bits, ElemType type) {
  if (type == ElemType::kBf16) return __uint_as_float(static_cast<std::uint32_t>(bits) << 16);
  return __half2float(__ushort_as_half(bits));
}

// Channels c0..c0+7 of one row; zeros outside [0, head_dim) and for rows past the end.
__device__ __forceinline__ void load_chunk(const std::uint16_t* row, bool row_valid, int c0,
                                           int head_dim, bool vector_loads, ElemType type,
                                           float (&v)[kChannelsPerChunk]) {
  if (!row_valid) {
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) v[j] = 0.0f;
    return;
  }
  if (vector_loads && c0 + kChannelsPerChunk <= head_dim) {
    const uint4 raw = *reinterpret_cast<const uint4*>(row + c0);
    const std::uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      v[2 * j] = elem_to_float(static_cast<std::uint16_t>(words[j] & 0xFFFFu), type);
      v[2 * j + 1] = elem_to_float(static_cast<std::uint16_t>(words[j] >> 16), type);
    }
    return;
  }
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) {
    const int c = c0 + j;
    v[j] = c < head_dim ? elem_to_float(row[c], type) : 0.0f;
  }
}

// The token mean of channel c of (batch, head) bh from kSum partials, reduced in split order so
// every kernel that needs it computes the same float.
__device__ __forceinline__ float mean_from_sums(const float* sums, int splits, std::int64_t bh,
                                                int batch_heads, int head_dim, int len, int c) {
  float s = 0.0f;
  for (int i = 0; i < splits; ++i) s += sums[(i * static_cast<std::int64_t>(batch_heads) + bh) * head_dim + c];
  return s / static_cast<float>(len);
}

__device__ __forceinline__ float max_of_partials(const float* partials, int splits, std::int64_t bh,
                                                 int batch_heads, int head_dim, int c) {
  float a = 0.0f;
  for (int i = 0; i < splits; ++i) a = fmaxf(a, partials[(i * static_cast<std::int64_t>(batch_heads) + bh) * head_dim + c]);
  return a;
}

// Channels c0..c0+7 of one row quantized with `inv` (= qmax / absmax of the group, 0 for an
// all-zero group) and stored at row_out: INT8 bytes, or INT4 with element 2i in the low nibble
// of byte i (the s4 MMA operand order).
__device__ __forceinline__ void store_quantized_chunk(std::int8_t* row_out, int c0,
                                                      const float (&v)[kChannelsPerChunk],
                                                      float inv, int qmax, QkBits bits) {
  int x[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) x[j] = min(qmax, max(-qmax, __float2int_rn(v[j] * inv)));
  if (bits == QkBits::kInt8) {
    uint2 packed;
    packed.x = (x[0] & 0xFF) | ((x[1] & 0xFF) << 8) | ((x[2] & 0xFF) << 16) |
               (static_cast<unsigned>(x[3] & 0xFF) << 24);
    packed.y = (x[4] & 0xFF) | ((x[5] & 0xFF) << 8) | ((x[6] & 0xFF) << 16) |
               (static_cast<unsigned>(x[7] & 0xFF) << 24);
    *reinterpret_cast<uint2*>(row_out + c0) = packed;
  } else {
    unsigned packed = 0u;
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) packed |= static_cast<unsigned>(x[j] & 0xF) << (4 * j);
    *reinterpret_cast<unsigned*>(row_out + c0 / 2) = packed;
  }
}

}  // namespace sageattn::cuda
