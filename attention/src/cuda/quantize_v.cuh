// V -> the PV operand (numerics.md step 4), one CTA per 128 tokens of one (batch, head):
//   FP8: (v - mean) * inv rounded to E4M3, transposed to [Dp, len_pad] with each 32-key group
//     permuted the way P leaves the S accumulator (fp8_v_position below), through a shared
//     memory tile so that both the loads and the stores are whole rows;
//   FP16 (sage1): v - mean in fp16, [len_pad, Dp].
// The per-channel mean and multiplier come finished from channel_stats; the CTAs run beside
// K's in one launch (quantize_k_and_v.cu).
#pragma once

#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>

#include "cuda/params.h"
#include "cuda/quantize_common.cuh"
#include "sageattn/tiles.h"

namespace sageattn::cuda {

inline constexpr int kVTokens = 128;

// The CTAs of one pass: tiles of kVTokens x heads x batch, tile fastest.
__host__ __device__ inline int quantize_v_ctas(const QuantVParams& p) {
  return (p.len_pad + kVTokens - 1) / kVTokens * p.heads * p.batch;
}

// The FP8 CTA's shared memory (the FP16 one needs none), in a union with the other role's in a
// fused kernel.
template <int kDp>
struct QuantVShared {
  alignas(16) std::uint32_t tile[kDp * (kVTokens / 4)];
};

namespace quantize_v_detail {

// The stored layout depends only on 32-key groups, so the operand serves the 64-key (mma.sync)
// and 128-key (wgmma) K blocks alike; len_pad may end half way into a CTA's tile.
static_assert(kVTokens % kMmaTiles.block_k == 0 && kVTokens == kWgmmaTiles.block_k, "V tile");

// Inside each 32-key group, the S accumulator gives thread t keys {2t, 2t+1, 8+2t, 9+2t} of
// each 16 (m16n8k32 and the wgmma row fragments alike), which the FP8 A operand wants at k
// positions 4t..4t+3: a "quad" of four keys that lands in one 32-bit word of the stored row.
// Quad q of a 128-key tile: group q / 8, half (q / 4) % 2, t = q % 4; its word is word q.
__device__ __forceinline__ int quad_key(int q, int i) {
  const int first = (q / 8) * 32 + ((q / 4) % 2) * 16 + 2 * (q % 4);
  return first + (i / 2) * 8 + i % 2;
}

// The tile's words, XOR-swizzled in 16-byte units by the channel's chunk: the threads of one
// store instruction write 8 rows apart and would otherwise hit one bank; the read-out takes
// 16-byte units of one row, which the swizzle keeps contiguous.
__device__ __forceinline__ int tile_word(int c, int word) {
  return c * (kVTokens / 4) + ((((word >> 2) ^ (c >> 3)) & 7) << 2 | (word & 3));
}

template <int kDp>
__device__ __forceinline__ void quantize_v_fp8_cta(const QuantVParams& p, int tile_index, int h,
                                                   int b, QuantVShared<kDp>& smem) {
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kQuads = kVTokens / 4;
  constexpr int kQuadSlots = kQuantThreads / kChunks;
  constexpr int kQuadsPerThread = kQuads / kQuadSlots;
  auto& tile = smem.tile;

  const int token0 = tile_index * kVTokens;
  const int chunk = threadIdx.x % kChunks, slot = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;

  uint4 raw[kQuadsPerThread][4];
#pragma unroll
  for (int n = 0; n < kQuadsPerThread; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int token = token0 + quad_key(slot + n * kQuadSlots, i);
      raw[n][i] = load_raw_chunk(base + static_cast<std::int64_t>(token) * p.stride_l,
                                 token < p.len, c0, p.head_dim, p.vector_loads);
    }
  float mean[kChannelsPerChunk], inv[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) {
    inv[j] = p.inv[bh * kDp + c0 + j];
    mean[j] = p.mean != nullptr ? p.mean[bh * kDp + c0 + j] : 0.0f;
  }

#pragma unroll
  for (int n = 0; n < kQuadsPerThread; ++n) {
    const int quad = slot + n * kQuadSlots;
    float v[4][kChannelsPerChunk];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      unpack_chunk(raw[n][i], p.x_type, v[i]);
      const bool valid = token0 + quad_key(quad, i) < p.len;
#pragma unroll
      for (int j = 0; j < kChannelsPerChunk; ++j) v[i][j] = valid ? (v[i][j] - mean[j]) * inv[j] : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) {
      const std::uint32_t lo = __nv_cvt_float2_to_fp8x2(make_float2(v[0][j], v[1][j]), __NV_SATFINITE, __NV_E4M3);
      const std::uint32_t hi = __nv_cvt_float2_to_fp8x2(make_float2(v[2][j], v[3][j]), __NV_SATFINITE, __NV_E4M3);
      tile[tile_word(c0 + j, quad)] = lo | (hi << 16);
    }
  }
  __syncthreads();

  // Out: 16-byte units (4 words) of the tile's rows, 8 to a row; a warp writes 4 whole rows.
  constexpr int kUnits = kDp * kQuads / 4;
  for (int u = threadIdx.x; u < kUnits; u += kQuantThreads) {
    const int c = u / (kQuads / 4), unit = u % (kQuads / 4);
    const int token = token0 + unit * 16;
    if (token >= p.len_pad) continue;
    auto* dst = static_cast<std::uint8_t*>(p.out) + (bh * kDp + c) * p.len_pad + token;
    *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(&tile[tile_word(c, unit * 4)]);
  }
}

template <int kDp>
__device__ __forceinline__ void quantize_v_fp16_cta(const QuantVParams& p, int tile_index, int h,
                                                    int b) {
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kRowLanes = kQuantThreads / kChunks;
  const int chunk = threadIdx.x % kChunks, lane_row = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;
  float mean[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) mean[j] = p.mean != nullptr ? p.mean[bh * kDp + c0 + j] : 0.0f;
#pragma unroll
  for (int i = 0; i < kVTokens / kRowLanes; ++i) {
    const int token = tile_index * kVTokens + lane_row + i * kRowLanes;
    if (token >= p.len_pad) break;
    const bool valid = token < p.len;
    float v[kChannelsPerChunk];
    unpack_chunk(load_raw_chunk(base + static_cast<std::int64_t>(token) * p.stride_l, valid, c0,
                                p.head_dim, p.vector_loads),
                 p.x_type, v);
    __half2 hv[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      hv[j] = __floats2half2_rn(valid ? v[2 * j] - mean[2 * j] : 0.0f,
                                valid ? v[2 * j + 1] - mean[2 * j + 1] : 0.0f);
    }
    auto* dst = static_cast<__half*>(p.out) + (bh * p.len_pad + token) * kDp + c0;
    *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(hv);
  }
}

}  // namespace quantize_v_detail

// CTA `cta` (0 <= cta < quantize_v_ctas(p)) writes one tile of kVTokens tokens of the PV
// operand, FP8 or FP16 as p.pv says (a branch uniform over the launch).
template <int kDp>
__device__ __forceinline__ void quantize_v_cta(const QuantVParams& p, int cta, QuantVShared<kDp>& smem) {
  const int tiles = (p.len_pad + kVTokens - 1) / kVTokens;
  // Unsigned division: the signed one costs registers (channel_stats.cuh).
  const unsigned u = static_cast<unsigned>(cta);
  const int tile_index = u % tiles, h = u / tiles % p.heads, b = u / tiles / p.heads;
  if (p.pv == PvType::kFp8) {
    quantize_v_detail::quantize_v_fp8_cta<kDp>(p, tile_index, h, b, smem);
  } else {
    quantize_v_detail::quantize_v_fp16_cta<kDp>(p, tile_index, h, b);
  }
}

}  // namespace sageattn::cuda
