// The wgmma kernel's output through TMA (docs/kernels.md, "Output through TMA"): each consumer
// warpgroup writes its 64 x Dp tile of O, cast to the output dtype, into shared memory in the
// layout a TMA box of 64 rows x 64 channels with the 128-byte swizzle reads, and one thread
// stores the tile with tensor-map copies, which clip at len_q and head_dim. Why: with per-thread
// stores a warp instruction writes 8 rows x 16 bytes and the CTA holds its SM until the last of
// them has issued (Nsight Compute, H200, B2 H24 hd128 L4096: ~6% of the warp time in the
// epilogue); here the warps write shared memory and the TMA unit writes whole lines.
// The values are those of store_output_fragment bit for bit: output_value, then the same cast.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/epilogue.cuh"
#include "cuda/params.h"
#include "cuda/wgmma.cuh"
#include "cuda/wgmma_params.h"

namespace sageattn::cuda {

// One consumer's tile: kDp / 64 panels of 64 rows x 64 channels (2-byte elements), each the
// shared-memory image of one TMA box with CU_TENSOR_MAP_SWIZZLE_128B: rows 128 bytes apart, the
// 16-byte chunk k of row r at chunk k ^ (r % 8), the panel 1024-byte aligned (the swizzle is a
// function of the address). The swizzle is also what spreads a warp's pair stores: for one row
// half and channel group j, lane (g, t) writes chunk (j % 8) ^ g, word t of its row: 32 banks.
template <int kDp>
struct OutputTile {
  static constexpr int kRows = kOutputBoxRows;
  static constexpr int kPanelChannels = kOutputBoxChannels;  // 128 bytes: the SW128 span
  static constexpr int kPanels = kDp / kPanelChannels;
  static constexpr int kRowBytes = kPanelChannels * 2;
  static constexpr int kPanelBytes = kRows * kRowBytes;
  static constexpr int kBytes = kPanels * kPanelBytes;
  static constexpr int kAlign = 1024;  // the SW128 atom: 8 rows x 128 bytes
  static_assert(kDp % kPanelChannels == 0, "whole panels");
  static_assert(kRowBytes == 128, "one panel row is one 128-byte swizzle span");

  // Byte offset of the channel pair (c, c + 1), c even, of row r.
  __device__ __forceinline__ static int pair_offset(int r, int c) {
    const int panel = c / kPanelChannels;
    const int chunk = (c % kPanelChannels) / 8;
    return panel * kPanelBytes + r * kRowBytes + ((chunk ^ (r % 8)) * 16) + (c % 8) * 2;
  }
};

// One thread's fragment into the tile: rows `row` and row + 8 (row = 16 warp + g), channel pairs
// c = 8 j + 2 t for every j < kDp / 8; value(half, j, e) is the accumulator of row row + 8 half,
// channel c + e. Rows past len_q and channels past head_dim are written too:
// the store's box clips them.
template <int kDp, typename Out, typename Channels, typename Value>
__device__ __forceinline__ void stage_output_as(std::uint8_t* tile, int row, int t,
                                                const float (&inv_l)[2], Channels channels,
                                                Value value) {
  using Tile = OutputTile<kDp>;
#pragma unroll
  for (int j = 0; j < kDp / 8; ++j) {
    const int c = 8 * j + 2 * t;
    const float f[2] = {channels.factor_at(c), channels.factor_at(c + 1)};
    const float m[2] = {channels.mean_at(c), channels.mean_at(c + 1)};
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const float x0 = output_value(value(half, j, 0), inv_l[half], f[0], m[0]);
      const float x1 = output_value(value(half, j, 1), inv_l[half], f[1], m[1]);
      *reinterpret_cast<std::uint32_t*>(tile + Tile::pair_offset(row + 8 * half, c)) =
          output_pair_bits<Out>(x0, x1);
    }
  }
}

template <int kDp, typename Channels, typename Value>
__device__ __forceinline__ void stage_output_fragment(ElemType out_type, std::uint8_t* tile,
                                                      int row, int t, const float (&inv_l)[2],
                                                      Channels channels, Value value) {
  if (out_type == ElemType::kBf16) {
    stage_output_as<kDp, __nv_bfloat16>(tile, row, t, inv_l, channels, value);
  } else {
    stage_output_as<kDp, __half>(tile, row, t, inv_l, channels, value);
  }
}

// After every thread of the warpgroup has staged its fragment: each makes its writes visible to
// the async proxy, the warpgroup meets at named barrier `barrier` (128 threads), and the leader
// stores the panels at (channel 64 p, row `row`, head h, batch b) of out_map. It does not wait
// for the TMA unit's reads of them: await_output_tile_read does before the tile is staged again,
// and the kernel's end (the global writes complete before the grid does). A tile whose first row
// is past len_q, or which lies wholly before row 0 (padding rows first, params.h q_lead_rows: whole
// tiles of them), stores nothing. A tile must not start before row 0 and end after it: a TMA store
// with a negative coordinate stopped the kernel (illegal instruction, H200).
template <int kDp>
__device__ __forceinline__ void store_output_tile(const void* out_map, std::uint32_t tile_addr,
                                                  int barrier, bool leader, int row, int len_q,
                                                  int h, int b) {
  using Tile = OutputTile<kDp>;
  wgmma::fence_proxy_async_shared();
  wgmma::named_barrier_sync(barrier, 128);
  if (leader && row < len_q && row + Tile::kRows > 0) {
#pragma unroll
    for (int panel = 0; panel < Tile::kPanels; ++panel) {
      wgmma::tma_store_4d(out_map, tile_addr + panel * Tile::kPanelBytes,
                          panel * Tile::kPanelChannels, row, h, b);
    }
    wgmma::bulk_commit_group();
  }
}

// The leader waits until the TMA unit has read the tile its last store_output_tile stored; then
// the warpgroup meets at `barrier`, after which every thread may write the tile again.
__device__ __forceinline__ void await_output_tile_read(int barrier, bool leader) {
  if (leader) wgmma::bulk_wait_group_read<0>();
  wgmma::named_barrier_sync(barrier, 128);
}

}  // namespace sageattn::cuda
