// Quantization kernels: Q/K rows -> symmetric INT8/INT4 with smoothing (one pass over the
// input each), V -> the PV operand (FP8 E4M3 transposed and permuted, or fp16).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>

#include "cuda/launch.h"
#include "cuda/quantize_common.cuh"
#include "sageattn/tiles.h"

namespace sageattn::cuda {
namespace {

// Partial per-channel sum or absmax over one token range of one (batch, head).
template <int kDp>
__global__ void __launch_bounds__(kQuantThreads) column_stats_kernel(const ColumnStatsParams p) {
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kRowLanes = kQuantThreads / kChunks;
  __shared__ float partial[kRowLanes][kDp];
  __shared__ float center[kDp];
  const int split = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int chunk = threadIdx.x % kChunks, lane_row = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const int batch_heads = p.batch * p.heads;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;
  if (threadIdx.x < kDp) {
    center[threadIdx.x] = (p.center_sums != nullptr && threadIdx.x < p.head_dim)
                              ? mean_from_sums(p.center_sums, p.center_splits, bh, batch_heads,
                                               p.head_dim, p.len, threadIdx.x)
                              : 0.0f;
  }
  __syncthreads();
  const bool sum = p.stat == ColumnStat::kSum;
  float acc[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) acc[j] = 0.0f;
  const int begin = split * p.rows_per_split;
  const int end = min(p.len, begin + p.rows_per_split);
  for (int token = begin + lane_row; token < end; token += kRowLanes) {
    float v[kChannelsPerChunk];
    load_chunk(base + static_cast<std::int64_t>(token) * p.stride_l, true, c0, p.head_dim,
               p.vector_loads, p.x_type, v);
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) {
      acc[j] = sum ? acc[j] + v[j] : fmaxf(acc[j], fabsf(v[j] - center[c0 + j]));
    }
  }
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) partial[lane_row][c0 + j] = acc[j];
  __syncthreads();
  if (threadIdx.x < p.head_dim && threadIdx.x < kDp) {
    float r = 0.0f;
    for (int i = 0; i < kRowLanes; ++i) r = sum ? r + partial[i][threadIdx.x] : fmaxf(r, partial[i][threadIdx.x]);
    p.partial[(split * static_cast<std::int64_t>(batch_heads) + bh) * p.head_dim + threadIdx.x] = r;
  }
}

// One CTA quantizes kRows rows of one (batch, head): mean (given or of the block's valid rows),
// subtraction, group absmax, scale, INT8/INT4 values. Groups: (row / kWarpRows, row % 8).
template <int kDp, int kRows, int kWarpRows>
__global__ void __launch_bounds__(kQuantThreads) quantize_rows_kernel(const QuantRowsParams p) {
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kRowLanes = kQuantThreads / kChunks;
  static_assert(kRowLanes % kThreadGroups == 0, "a thread's rows must share one group r % 8");
  static_assert(kRows % kRowLanes == 0, "threads must tile the block");
  constexpr int kRowsPerThread = kRows / kRowLanes;
  constexpr int kWarpGroups = kRows / kWarpRows;

  __shared__ float partial[kRowLanes][kDp];
  __shared__ float mean[kDp];
  __shared__ unsigned amax_bits[kWarpGroups][kThreadGroups];
  __shared__ float group_inv[kWarpGroups][kThreadGroups];

  const int block = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int chunk = threadIdx.x % kChunks, lane_row = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const int row0 = block * kRows;
  const int blocks = p.len_pad / kRows;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;

  float v[kRowsPerThread][kChannelsPerChunk];
#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) {
    const int token = row0 + lane_row + i * kRowLanes;
    load_chunk(base + static_cast<std::int64_t>(token) * p.stride_l, token < p.len, c0,
               p.head_dim, p.vector_loads, p.x_type, v[i]);
  }
  if (threadIdx.x < kWarpGroups * kThreadGroups) (&amax_bits[0][0])[threadIdx.x] = 0u;

  if (p.mean_source == MeanSource::kBlockRows) {
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) {
      float s = 0.0f;
#pragma unroll
      for (int i = 0; i < kRowsPerThread; ++i) s += v[i][j];
      partial[lane_row][c0 + j] = s;
    }
    __syncthreads();
    if (threadIdx.x < kDp) {
      float s = 0.0f;
      for (int r = 0; r < kRowLanes; ++r) s += partial[r][threadIdx.x];
      const int valid_rows = min(kRows, p.len - row0);
      const float m = s / static_cast<float>(valid_rows);
      mean[threadIdx.x] = m;
      if (threadIdx.x < p.head_dim) {
        p.mean_out[(bh * blocks + block) * p.head_dim + threadIdx.x] = m;
      }
    }
  } else if (threadIdx.x < kDp) {
    const bool given = p.mean_source == MeanSource::kPartialSums && threadIdx.x < p.head_dim;
    mean[threadIdx.x] = given ? mean_from_sums(p.mean_sums, p.mean_splits, bh, p.batch * p.heads,
                                               p.head_dim, p.len, threadIdx.x)
                              : 0.0f;
  }
  __syncthreads();

#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) {
    const int r = lane_row + i * kRowLanes;
    const bool valid = row0 + r < p.len;
    float a = 0.0f;
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) {
      v[i][j] = valid ? v[i][j] - mean[c0 + j] : 0.0f;
      a = fmaxf(a, fabsf(v[i][j]));
    }
    // Non-negative floats order like their bit patterns.
    atomicMax(&amax_bits[r / kWarpRows][r % kThreadGroups], __float_as_uint(a));
  }
  __syncthreads();

  const int qmax = p.bits == QkBits::kInt8 ? kInt8Max : kInt4Max;
  if (threadIdx.x < kWarpGroups * kThreadGroups) {
    const int w = threadIdx.x / kThreadGroups, g = threadIdx.x % kThreadGroups;
    unsigned bits = amax_bits[w][g];
    if (p.groups != ScaleGroups::kPerThread) {
      const int w_begin = p.groups == ScaleGroups::kPerBlock ? 0 : w;
      const int w_end = p.groups == ScaleGroups::kPerBlock ? kWarpGroups : w + 1;
      bits = 0u;
      for (int ww = w_begin; ww < w_end; ++ww)
        for (int gg = 0; gg < kThreadGroups; ++gg) bits = max(bits, amax_bits[ww][gg]);
    }
    const float a = __uint_as_float(bits);
    const float qmax_f = static_cast<float>(qmax);
    group_inv[w][g] = a > 0.0f ? qmax_f / a : 0.0f;
    p.scale[(bh * blocks + block) * (kWarpGroups * kThreadGroups) + threadIdx.x] =
        (a / qmax_f) * p.scale_mult;
  }
  __syncthreads();

  const int row_bytes = p.bits == QkBits::kInt8 ? kDp : kDp / 2;
#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) {
    const int r = lane_row + i * kRowLanes;
    const float inv = group_inv[r / kWarpRows][r % kThreadGroups];
    store_quantized_chunk(p.out + (bh * p.len_pad + row0 + r) * row_bytes, c0, v[i], inv, qmax,
                          p.bits);
  }
}

// Tokens per CTA. The stored layout depends only on 32-key groups (fp8_v_position), so the same
// V operand serves the 64-key (mma.sync) and 128-key (wgmma) K blocks.
constexpr int kVTokens = kMmaTiles.block_k;
constexpr int kVTilePad = 16;  // keeps 16-byte rows aligned for the vector stores
constexpr int kVTileParts = kVTokens / 16;

// The transposed tile's 16-byte parts are stored XOR-swizzled by the row's channel chunk: the
// byte stores of one warp write rows 8 * chunk + j (16 chunks, one column), which without the
// swizzle fall in one bank (8 rows x 80 B = 160 words apart) and replay 16 times.
__device__ __forceinline__ int v_tile_part(int c, int part) {
  return part ^ ((c / kChannelsPerChunk) % kVTileParts);
}

// Position of key j of a K block inside the stored FP8 row: inside each 32-key group, the S
// accumulator of m16n8k32 gives thread t keys {2t, 2t+1, 8+2t, 9+2t} (and +16), which the FP8
// A operand wants at k positions 4t..4t+3 (and 16+4t..), so P goes from registers to the MMA.
__device__ __forceinline__ int fp8_v_position(int j) {
  const int group = j / 32, jj = j % 32, half = jj / 16, r = jj % 16;
  const int t = (r % 8) / 2;
  const int i = (r < 8 ? 0 : 2) + r % 2;
  return group * 32 + half * 16 + 4 * t + i;
}

template <int kDp>
__global__ void __launch_bounds__(kQuantThreads) quantize_v_kernel(const QuantVParams p) {
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kRowLanes = kQuantThreads / kChunks;
  constexpr int kTokensPerThread = kVTokens / kRowLanes;
  __shared__ __align__(16) std::uint8_t tile[kDp][kVTokens + kVTilePad];

  const int block = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int chunk = threadIdx.x % kChunks, lane_row = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const int token0 = block * kVTokens;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;

  const int batch_heads = p.batch * p.heads;
  float mean[kChannelsPerChunk], inv[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) {
    const int c = c0 + j;
    const bool real = c < p.head_dim;
    mean[j] = (real && p.mean_sums != nullptr)
                  ? mean_from_sums(p.mean_sums, p.mean_splits, bh, batch_heads, p.head_dim, p.len, c)
                  : 0.0f;
    const float a = (real && p.pv == PvType::kFp8)
                        ? max_of_partials(p.absmax_partials, p.absmax_splits, bh, batch_heads,
                                          p.head_dim, c)
                        : 0.0f;
    inv[j] = a > 0.0f ? kE4M3Max / a : 0.0f;
    // The first token block also publishes what the attention epilogue needs per channel.
    if (block == 0 && lane_row == 0) {
      // kTimes448: P was scaled by 448 too; kExp2Offset8: its 2^8 cancels against l.
      if (p.factor_out != nullptr) {
        p.factor_out[bh * kDp + c] =
            p.p_scale == PScale::kTimes448 ? a / kE4M3Max / kE4M3Max : a / kE4M3Max;
      }
      if (p.mean_out != nullptr) p.mean_out[bh * kDp + c] = mean[j];
    }
  }

#pragma unroll
  for (int i = 0; i < kTokensPerThread; ++i) {
    const int local = lane_row + i * kRowLanes;
    const int token = token0 + local;
    const bool valid = token < p.len;
    float v[kChannelsPerChunk];
    load_chunk(base + static_cast<std::int64_t>(token) * p.stride_l, valid, c0, p.head_dim,
               p.vector_loads, p.x_type, v);
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) v[j] = valid ? v[j] - mean[j] : 0.0f;
    if (p.pv == PvType::kFp8) {
      const int pos = fp8_v_position(local);
      const int stored = v_tile_part(c0, pos / 16) * 16 + pos % 16;  // same for the 8 rows
#pragma unroll
      for (int j = 0; j < kChannelsPerChunk; ++j) {
        tile[c0 + j][stored] = __nv_cvt_float_to_fp8(v[j] * inv[j], __NV_SATFINITE, __NV_E4M3);
      }
    } else {
      __half2 hv[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) hv[j] = __floats2half2_rn(v[2 * j], v[2 * j + 1]);
      auto* dst = static_cast<__half*>(p.out) + (bh * p.len_pad + token) * kDp + c0;
      *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(hv);
    }
  }
  if (p.pv != PvType::kFp8) return;
  __syncthreads();
  constexpr int kRowChunks = kVTileParts;
  for (int idx = threadIdx.x; idx < kDp * kRowChunks; idx += kQuantThreads) {
    const int c = idx / kRowChunks, part = idx % kRowChunks;
    auto* dst = static_cast<std::uint8_t*>(p.out) + (bh * kDp + c) * p.len_pad + token0 + part * 16;
    *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(&tile[c][v_tile_part(c, part) * 16]);
  }
}

template <int kRows, int kWarpRows>
void launch_rows(const QuantRowsParams& p, int dp, cudaStream_t stream) {
  const dim3 grid(p.len_pad / kRows, p.heads, p.batch);
  if (dp == 64) {
    quantize_rows_kernel<64, kRows, kWarpRows><<<grid, kQuantThreads, 0, stream>>>(p);
  } else {
    quantize_rows_kernel<128, kRows, kWarpRows><<<grid, kQuantThreads, 0, stream>>>(p);
  }
}

}  // namespace

void launch_quantize_q(const QuantRowsParams& params, int dp, TileShape tiles, cudaStream_t stream) {
  // Groups inside one warp's rows and no block mean: one warp per slice (quantize_slices.cu).
  if (params.groups != ScaleGroups::kPerBlock && quantize_slices_fit(params, tiles.warp_q)) {
    launch_quantize_slices(params, dp, tiles.warp_q, stream);
    return;
  }
  if (tiles.block_q == kWgmmaTiles3.block_q && tiles.warp_q == kWgmmaTiles3.warp_q) {
    launch_rows<kWgmmaTiles3.block_q, kWgmmaTiles3.warp_q>(params, dp, stream);
  } else if (tiles.block_q == kWgmmaTiles2.block_q && tiles.warp_q == kWgmmaTiles2.warp_q) {
    launch_rows<kWgmmaTiles2.block_q, kWgmmaTiles2.warp_q>(params, dp, stream);
  } else {
    launch_rows<kMmaTiles.block_q, kMmaTiles.warp_q>(params, dp, stream);
  }
}

void launch_quantize_k(const QuantRowsParams& params, int dp, int block_k, cudaStream_t stream) {
  // K has no warp split inside a block: per-warp scales are per-block scales.
  static_assert(kWgmmaTiles.block_k == 128 && kMmaTiles.block_k == 64, "the two K block sizes");
  // Every K group lies inside its block: one warp per block (quantize_slices.cu).
  if (quantize_slices_fit(params, block_k)) {
    launch_quantize_slices(params, dp, block_k, stream);
    return;
  }
  if (block_k == kWgmmaTiles.block_k) {
    launch_rows<kWgmmaTiles.block_k, kWgmmaTiles.block_k>(params, dp, stream);
  } else {
    launch_rows<kMmaTiles.block_k, kMmaTiles.block_k>(params, dp, stream);
  }
}

void launch_column_stats(const ColumnStatsParams& params, int dp, cudaStream_t stream) {
  const dim3 grid(params.splits, params.heads, params.batch);
  if (dp == 64) {
    column_stats_kernel<64><<<grid, kQuantThreads, 0, stream>>>(params);
  } else {
    column_stats_kernel<128><<<grid, kQuantThreads, 0, stream>>>(params);
  }
}

void launch_quantize_v(const QuantVParams& params, int dp, cudaStream_t stream) {
  const dim3 grid(params.len_pad / kVTokens, params.heads, params.batch);
  if (dp == 64) {
    quantize_v_kernel<64><<<grid, kQuantThreads, 0, stream>>>(params);
  } else {
    quantize_v_kernel<128><<<grid, kQuantThreads, 0, stream>>>(params);
  }
}

}  // namespace sageattn::cuda
