// Torch-free parameters of the wgmma (sm_90a) attention kernel: the operands of AttentionParams
// plus the TMA descriptors the producer warpgroup copies Q, K and V^T tiles with. Passed as a
// __grid_constant__ kernel parameter, so the descriptors live in parameter memory as TMA needs.
#pragma once

#include <cuda.h>

#include "cuda/params.h"

namespace sageattn::cuda {

struct WgmmaAttentionParams {
  // Q INT8 as a [B * Hq * len_q_pad, Dp] byte matrix, box 128 rows x Dp.
  CUtensorMap q_map;
  // K INT8 as a [B * Hkv * len_k_pad, Dp] byte matrix, box 128 keys x Dp.
  CUtensorMap k_map;
  // V^T FP8 as a [B * Hkv * Dp, len_k_pad] byte matrix, box Dp channels x 128 keys.
  CUtensorMap v_map;
  AttentionParams attn;  // v_factor here is absmax / 448 (PScale::kExp2Offset8)
};

}  // namespace sageattn::cuda
