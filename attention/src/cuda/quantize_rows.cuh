// Q and K rows -> symmetric INT8/INT4 (numerics.md step 3): one CTA per block of kRows rows,
// which reads every input byte once. Each thread keeps its rows packed in registers (16 bytes a
// row chunk) between the absmax pass and the rounding pass, so the pass runs at memory speed;
// the scale groups (row / kWarpRows, row % 8), per-warp and per-block maxima are reduced in
// shared memory. Smoothing: none, the block's own mean (Q smoothing), or a channel mean (K).
// The CTAs run inside the fused launches (quantize_q_and_stats.cu for Q, quantize_k_and_v.cu
// for K).
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/params.h"
#include "cuda/quantize_common.cuh"
#include "sageattn/tiles.h"

namespace sageattn::cuda {
namespace quantize_rows_detail {

// Channels c0..c0+7 of one row, already multiplied by the group's inverse scale, rounded to
// integers and stored: INT8 bytes, or INT4 with element 2i in the low nibble of byte i (the s4
// MMA operand order). |v * inv| <= qmax (inv = qmax / absmax), so no clamp is needed.
__device__ __forceinline__ void store_rounded_chunk(std::int8_t* row_out, int c0,
                                                    const float (&scaled)[kChannelsPerChunk],
                                                    QkBits bits) {
  std::uint32_t r[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) r[j] = round_to_int_bits(scaled[j]);
  if (bits == QkBits::kInt8) {
    // The low byte of each pattern is the two's complement INT8.
    uint2 packed;
    packed.x = __byte_perm(__byte_perm(r[0], r[1], 0x0040), __byte_perm(r[2], r[3], 0x0040), 0x5410);
    packed.y = __byte_perm(__byte_perm(r[4], r[5], 0x0040), __byte_perm(r[6], r[7], 0x0040), 0x5410);
    *reinterpret_cast<uint2*>(row_out + c0) = packed;
  } else {
    unsigned packed = 0u;
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) packed |= (r[j] & 0xFu) << (4 * j);
    *reinterpret_cast<unsigned*>(row_out + c0 / 2) = packed;
  }
}

}  // namespace quantize_rows_detail

// The CTAs of one pass: blocks x heads x batch, block fastest.
__host__ __device__ inline int quantize_rows_ctas(const QuantRowsParams& p, int rows) {
  return p.len_pad / rows * p.heads * p.batch;
}

// A CTA's shared memory, in a union with the other role's in a fused kernel.
template <int kDp, int kRows, int kWarpRows, MeanSource kMean>
struct QuantRowsShared {
  static constexpr bool kBlockMean = kMean == MeanSource::kBlockRows;
  static constexpr int kLaneRows = kQuantThreads / (kDp / kChannelsPerChunk);
  static constexpr int kGroups = kRows / kWarpRows * kThreadGroups;
  float row_amax[kRows];
  float group_inv[kGroups];
  float block_mean[kBlockMean ? kDp : 1];
  float column_sums[kBlockMean ? kLaneRows : 1][kBlockMean ? kDp : 1];
};

// CTA `cta` (0 <= cta < quantize_rows_ctas(p, kRows)) quantizes one block of kRows rows.
template <int kDp, int kRows, int kWarpRows, MeanSource kMean>
__device__ __forceinline__ void quantize_rows_cta(const QuantRowsParams& p, int cta,
                                                  QuantRowsShared<kDp, kRows, kWarpRows, kMean>& smem) {
  using namespace quantize_rows_detail;
  using Shared = QuantRowsShared<kDp, kRows, kWarpRows, kMean>;
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kLaneRows = Shared::kLaneRows;  // rows one pass of the CTA covers
  constexpr int kRowsPerThread = kRows / kLaneRows;
  constexpr int kGroups = Shared::kGroups;
  constexpr bool kBlockMean = Shared::kBlockMean;
  static_assert(kRows % kLaneRows == 0 && kWarpRows % kThreadGroups == 0, "block shape");
  static_assert(kGroups <= kQuantThreads, "one thread per scale group");
  auto& row_amax = smem.row_amax;
  auto& group_inv = smem.group_inv;
  auto& block_mean = smem.block_mean;
  auto& column_sums = smem.column_sums;

  const int blocks = p.len_pad / kRows;
  const int block = cta % blocks, h = (cta / blocks) % p.heads, b = cta / (blocks * p.heads);
  const int chunk = threadIdx.x % kChunks, lane_row = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const int row0 = block * kRows;
  // Row `padded` of the block's rows is the sequence's row padded - lead_rows; rows outside
  // [0, len) are padding (zeros, excluded from the block mean).
  const int first_row = row0 - p.lead_rows;
  auto row_valid = [&](int token) { return token >= 0 && token < p.len; };
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;

  // Every load of the block first: kRowsPerThread x 16 bytes in flight per thread.
  uint4 raw[kRowsPerThread];
#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) {
    const int token = first_row + lane_row + i * kLaneRows;
    raw[i] = load_raw_chunk(base + static_cast<std::int64_t>(token) * p.stride_l, row_valid(token),
                            c0, p.head_dim, p.vector_loads);
  }

  float mean[kChannelsPerChunk];
  if constexpr (kMean == MeanSource::kChannelMean) {
    const float4* m = reinterpret_cast<const float4*>(p.channel_mean + bh * kDp + c0);
    const float4 lo = m[0], hi = m[1];
    mean[0] = lo.x, mean[1] = lo.y, mean[2] = lo.z, mean[3] = lo.w;
    mean[4] = hi.x, mean[5] = hi.y, mean[6] = hi.z, mean[7] = hi.w;
  } else if constexpr (kBlockMean) {
    // The mean of the block's valid rows (rows past the end load as zeros), summed per thread
    // in row order, then over the threads in lane-row order.
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) mean[j] = 0.0f;
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
      float v[kChannelsPerChunk];
      unpack_chunk(raw[i], p.x_type, v);
#pragma unroll
      for (int j = 0; j < kChannelsPerChunk; ++j) mean[j] += v[j];
    }
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) column_sums[lane_row][c0 + j] = mean[j];
    __syncthreads();
    if (threadIdx.x < kDp) {
      float s = 0.0f;
      for (int r = 0; r < kLaneRows; ++r) s += column_sums[r][threadIdx.x];
      const int rows = min(first_row + kRows, p.len) - max(first_row, 0);
      const float m = s / static_cast<float>(rows);
      block_mean[threadIdx.x] = m;
      if (threadIdx.x < p.head_dim) p.mean_out[(bh * blocks + block) * p.head_dim + threadIdx.x] = m;
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) mean[j] = block_mean[c0 + j];
  }

  // Row i's values as the groups see them: smoothed, and zero for rows past the end.
  auto smoothed = [&](int i, float (&v)[kChannelsPerChunk]) {
    unpack_chunk(raw[i], p.x_type, v);
    if constexpr (kMean != MeanSource::kNone) {
      const bool valid = row_valid(first_row + lane_row + i * kLaneRows);
#pragma unroll
      for (int j = 0; j < kChannelsPerChunk; ++j) v[j] = valid ? v[j] - mean[j] : 0.0f;
    }
  };

  // Row absmax: over the thread's 8 channels, then over the kChunks lanes of the row.
#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) {
    float v[kChannelsPerChunk];
    smoothed(i, v);
    float a = 0.0f;
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) a = fmaxf(a, fabsf(v[j]));
#pragma unroll
    for (int offset = 1; offset < kChunks; offset *= 2) {
      a = fmaxf(a, __shfl_xor_sync(0xffffffffu, a, offset));
    }
    if (chunk == 0) row_amax[lane_row + i * kLaneRows] = a;
  }
  __syncthreads();

  // One thread per scale group (warp group w, thread group g): its absmax, widened to the warp
  // group or the block unless per-thread.
  const int qmax = p.bits == QkBits::kInt8 ? kInt8Max : kInt4Max;
  if (threadIdx.x < kGroups) {
    const int w = threadIdx.x / kThreadGroups, g = threadIdx.x % kThreadGroups;
    float a = 0.0f;
    if (p.groups == ScaleGroups::kPerThread) {
#pragma unroll 4
      for (int r = w * kWarpRows + g; r < (w + 1) * kWarpRows; r += kThreadGroups) a = fmaxf(a, row_amax[r]);
    } else {
      const int first = p.groups == ScaleGroups::kPerBlock ? 0 : w * kWarpRows;
      const int last = p.groups == ScaleGroups::kPerBlock ? kRows : (w + 1) * kWarpRows;
#pragma unroll 8
      for (int r = first; r < last; ++r) a = fmaxf(a, row_amax[r]);
    }
    const float qmax_f = static_cast<float>(qmax);
    group_inv[threadIdx.x] = a > 0.0f ? qmax_f / a : 0.0f;
    p.scale[(bh * blocks + block) * kGroups + threadIdx.x] = (a / qmax_f) * p.scale_mult;
  }
  __syncthreads();

  const int row_bytes = p.bits == QkBits::kInt8 ? kDp : kDp / 2;
#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) {
    const int r = lane_row + i * kLaneRows;
    const float inv = group_inv[(r / kWarpRows) * kThreadGroups + r % kThreadGroups];
    float v[kChannelsPerChunk];
    smoothed(i, v);
#pragma unroll
    // __fmul_rn: never contracted into the rounding add (the golden model rounds the product).
    for (int j = 0; j < kChannelsPerChunk; ++j) v[j] = __fmul_rn(v[j], inv);
    store_rounded_chunk(p.out + (bh * p.len_pad + row0 + r) * row_bytes, c0, v, p.bits);
  }
}

}  // namespace sageattn::cuda
