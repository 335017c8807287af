// Q and K rows -> symmetric INT8/INT4 (numerics.md step 3): one CTA per block of kRows rows,
// which reads every input byte once. Each thread keeps its rows packed in registers (16 bytes a
// row chunk) between the absmax pass and the rounding pass, so the pass runs at memory speed;
// the scale groups (row / kWarpRows, row % 8), per-warp and per-block maxima are reduced in
// shared memory. Smoothing: none, the block's own mean (Q smoothing), or a channel mean (K).
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/launch.h"
#include "cuda/quantize_common.cuh"
#include "sageattn/tiles.h"

namespace sageattn::cuda {
namespace {

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

template <int kDp, int kRows, int kWarpRows, MeanSource kMean>
__global__ void __launch_bounds__(kQuantThreads) quantize_rows_kernel(const QuantRowsParams p) {
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kLaneRows = kQuantThreads / kChunks;  // rows one pass of the CTA covers
  constexpr int kRowsPerThread = kRows / kLaneRows;
  constexpr int kWarpGroups = kRows / kWarpRows;
  constexpr int kGroups = kWarpGroups * kThreadGroups;
  constexpr bool kBlockMean = kMean == MeanSource::kBlockRows;
  static_assert(kRows % kLaneRows == 0 && kWarpRows % kThreadGroups == 0, "block shape");
  static_assert(kGroups <= kQuantThreads, "one thread per scale group");

  __shared__ float row_amax[kRows];
  __shared__ float group_inv[kGroups];
  __shared__ float block_mean[kBlockMean ? kDp : 1];
  __shared__ float column_sums[kBlockMean ? kLaneRows : 1][kBlockMean ? kDp : 1];

  const int block = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int chunk = threadIdx.x % kChunks, lane_row = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const int row0 = block * kRows;
  const int blocks = p.len_pad / kRows;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;

  // Every load of the block first: kRowsPerThread x 16 bytes in flight per thread.
  uint4 raw[kRowsPerThread];
#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) {
    const int token = row0 + lane_row + i * kLaneRows;
    raw[i] = load_raw_chunk(base + static_cast<std::int64_t>(token) * p.stride_l, token < p.len,
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
      const float m = s / static_cast<float>(min(kRows, p.len - row0));
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
      const bool valid = row0 + lane_row + i * kLaneRows < p.len;
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

template <int kRows, int kWarpRows, MeanSource kMean>
void launch_rows(const QuantRowsParams& p, int dp, cudaStream_t stream) {
  const dim3 grid(p.len_pad / kRows, p.heads, p.batch);
  if (dp == 64) {
    quantize_rows_kernel<64, kRows, kWarpRows, kMean><<<grid, kQuantThreads, 0, stream>>>(p);
  } else {
    quantize_rows_kernel<128, kRows, kWarpRows, kMean><<<grid, kQuantThreads, 0, stream>>>(p);
  }
}

template <int kRows, int kWarpRows>
void launch_q_rows(const QuantRowsParams& p, int dp, cudaStream_t stream) {
  if (p.mean_source == MeanSource::kBlockRows) {
    launch_rows<kRows, kWarpRows, MeanSource::kBlockRows>(p, dp, stream);
  } else {
    launch_rows<kRows, kWarpRows, MeanSource::kNone>(p, dp, stream);
  }
}

template <int kRows>
void launch_k_rows(const QuantRowsParams& p, int dp, cudaStream_t stream) {
  // K has no warp split inside a block: per-warp scales are per-block scales.
  if (p.mean_source == MeanSource::kChannelMean) {
    launch_rows<kRows, kRows, MeanSource::kChannelMean>(p, dp, stream);
  } else {
    launch_rows<kRows, kRows, MeanSource::kNone>(p, dp, stream);
  }
}

}  // namespace

void launch_quantize_q(const QuantRowsParams& params, int dp, TileShape tiles, cudaStream_t stream) {
  if (tiles.block_q == kWgmmaTiles3.block_q && tiles.warp_q == kWgmmaTiles3.warp_q) {
    launch_q_rows<kWgmmaTiles3.block_q, kWgmmaTiles3.warp_q>(params, dp, stream);
  } else if (tiles.block_q == kWgmmaTiles2.block_q && tiles.warp_q == kWgmmaTiles2.warp_q) {
    launch_q_rows<kWgmmaTiles2.block_q, kWgmmaTiles2.warp_q>(params, dp, stream);
  } else {
    launch_q_rows<kMmaTiles.block_q, kMmaTiles.warp_q>(params, dp, stream);
  }
}

void launch_quantize_k(const QuantRowsParams& params, int dp, int block_k, cudaStream_t stream) {
  static_assert(kWgmmaTiles.block_k == 128 && kMmaTiles.block_k == 64, "the two K block sizes");
  if (block_k == kWgmmaTiles.block_k) {
    launch_k_rows<kWgmmaTiles.block_k>(params, dp, stream);
  } else {
    launch_k_rows<kMmaTiles.block_k>(params, dp, stream);
  }
}

}  // namespace sageattn::cuda
