// Torch-free launchers of the kernels (one kernel per call, on the given stream). The caller
// checks the launch (C10_CUDA_KERNEL_LAUNCH_CHECK) right after each call.
#pragma once

#include <cuda_runtime_api.h>

#include "cuda/params.h"
#include "cuda/wgmma_params.h"

namespace sageattn::cuda {

// The quantization of one call in two launches (docs/kernels.md, "One call, step by step");
// dp = 64 or 128.
// 1. Q rows in blocks of tiles.block_q with warp groups of tiles.warp_q rows (kMmaTiles or a
//    kWgmmaTiles), beside the per-channel token statistics of K and V (none when
//    stats.sources is 0); stats.arrivals must be zero (channel_stats.cuh says why it stays so).
void launch_quantize_q_and_stats(const QuantRowsParams& q, TileShape tiles,
                                 const ChannelStatsParams& stats, int dp, cudaStream_t stream);
// 2. K rows in blocks of block_k keys (64: mma.sync kernels, 128: wgmma; per-warp is per-block
//    for K), beside V to the PV operand, FP8 or FP16, from the statistics of launch 1.
//    programmatic: may start during launch 1's last wave (grid_dependency.cuh; sm_90 only).
void launch_quantize_k_and_v(const QuantRowsParams& k, int block_k, const QuantVParams& v, int dp,
                             bool programmatic, cudaStream_t stream);

// sage1: INT8 QK, FP16 PV (attention_sage1.cu).
void launch_attention_sage1(const AttentionParams& params, int dp, cudaStream_t stream);
// sage2-8b / sage2-4b: INT8 or INT4 QK, FP8 PV (attention_sage2.cu).
void launch_attention_sage2(const AttentionParams& params, int dp, QkBits bits,
                            cudaStream_t stream);

// sage2-8b on sm_90a: INT8 QK, FP8 PV on wgmma with TMA (attention_sage2_wgmma.cu); dp = 64
// or 128. Numerics kWgmmaNumerics: K blocks of 128 keys (quantize K with block_k 128), V
// factors of PScale::kExp2Offset8.
// tiles: kWgmmaTiles2, kWgmmaTiles3 or, at hd64, kWgmmaTiles4 (two, three or four consumer
// warpgroups). programmatic: may start during launch 2's last wave (grid_dependency.cuh).
void launch_attention_sage2_wgmma(const WgmmaAttentionParams& params, int dp, TileShape tiles,
                                  bool programmatic, cudaStream_t stream);

// Empty when the kernel has an image for the current device, otherwise the CUDA runtime's
// reason (a build without this device's architecture).
const char* attention_sage1_missing(int dp);
const char* attention_sage2_missing(int dp, QkBits bits);
const char* attention_sage2_wgmma_missing(int dp);
// Floats of one split's partial of one tile for the wgmma kernel of head dim dp and these tiles
// (wgmma_key_split.cuh): params.split_partials holds split tiles x splits of them.
long long wgmma_key_split_partial_floats(int dp, TileShape tiles);

}  // namespace sageattn::cuda
