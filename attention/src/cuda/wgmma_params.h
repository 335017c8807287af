// Torch-free parameters of the wgmma (sm_90a) attention kernel: the operands of AttentionParams
// plus the TMA descriptors the producer warpgroup copies Q, K and V^T tiles with. Passed as a
// __grid_constant__ kernel parameter, so the descriptors live in parameter memory as TMA needs.
#pragma once

#include <cuda.h>

#include "cuda/params.h"
#include "sageattn/tiles.h"

namespace sageattn::cuda {

// The box of the output's tensor map (out_map below): 64 rows (one consumer's) x 64 channels
// (128 bytes of bf16 / fp16, the 128-byte swizzle span); a consumer stores Dp / 64 of them.
inline constexpr int kOutputBoxRows = 64;
inline constexpr int kOutputBoxChannels = 64;

struct WgmmaAttentionParams {
  // Q INT8 as a [B * Hq * len_q_pad, Dp] byte matrix, box 128 rows x Dp.
  CUtensorMap q_map;
  // K INT8 as a [B * Hkv * len_k_pad, Dp] byte matrix, box 128 keys x Dp.
  CUtensorMap k_map;
  // V^T FP8 as a [B * Hkv * Dp, len_k_pad] byte matrix, box Dp channels x 128 keys.
  CUtensorMap v_map;
  // O as a 4D tensor (head_dim, len_q, Hq, B), innermost first, through the output's strides (HND
  // or NHD alike), bf16 or fp16; box 64 channels x 64 rows, SW128 (wgmma_output_tile.cuh). Set
  // only when tma_store: the box clips at len_q and head_dim, so nothing past them is written.
  CUtensorMap out_map;
  // true: each consumer stages its 64 x Dp tile of O in shared memory and one thread stores it
  // with TMA; false: every thread stores its fragment (store_output_fragment). Both write the
  // same bits; backend.cpp picks TMA where a tensor map can describe the output.
  bool tma_store = false;
  // The key split of the last wave's tiles (sageattn/tiles.h KeySplit): tiles in item order,
  // t = (b * H_q + h) * q_blocks + q_block (causal: longest rows first within groups of 8 heads,
  // WgmmaTile::kCausalHeadGroup); items [0, split_first_tile) are one whole tile each, then
  // `splits` items per tile, split s over the key blocks [split_begin[s], split_begin[s + 1]).
  // Each writes its partial (O, m, l)
  // to split_partials; the last to finish (split_counters: zero before the launch and left zero,
  // arrival_counters.h) merges them (wgmma_key_split.cuh). splits == 1: no split, split_first_tile
  // is the tile count.
  int split_first_tile = 0;
  int splits = 1;
  int split_begin[kMaxKeySplits + 1] = {};
  float* split_partials = nullptr;  // float4-aligned
  unsigned* split_counters = nullptr;
  // The work items: tiles [0, split_first_tile) whole, then `splits` per tile (items =
  // split_first_tile + (tiles - split_first_tile) * splits), and the CTAs that run them. ctas ==
  // items: CTA c runs item c. Fewer (a persistent grid, one CTA per SM): CTA c runs item c, then
  // claims the next unclaimed one from item_counter (items ctas, ctas + 1, ... in claim order;
  // zero before the launch and left zero, arrival_counters.h) until none is left, so a CTA's next
  // tile loads while it finishes the last (attention_wgmma_kernel.cuh).
  int items = 0;
  int ctas = 0;
  unsigned* item_counter = nullptr;
  AttentionParams attn;  // v_factor here is absmax / 448 (PScale::kExp2Offset8)
};

}  // namespace sageattn::cuda
