// Torch-free parameter structs: all a kernel sees is raw pointers, strides (in elements) and
// sizes. The launch glue in backend.cpp fills them from at::Tensor.
#pragma once

#include <cstdint>

#include "sageattn/tiles.h"

namespace sageattn::cuda {

// Bits of the QK operands: INT8 (m16n8k32 s8) or INT4 packed two per byte (m16n8k64 s4).
enum class QkBits : int { kInt8 = 8, kInt4 = 4 };
// The PV product: FP8 E4M3 (m16n8k32, sm_89+) or FP16 (m16n8k16).
enum class PvType : int { kFp8, kFp16 };
// fp16 or bf16, for inputs read by the quantization kernels and the attention output.
enum class ElemType : int { kFp16, kBf16 };
// Which rows share one INT scale inside a block (tiles.h, sageattn::Granularity).
enum class ScaleGroups : int { kPerBlock, kPerWarp, kPerThread };
// Where the smoothing mean of a row block comes from: none, the block's own valid rows (Q
// smoothing), or one mean per channel over all tokens (K smoothing, from channel_stats).
enum class MeanSource : int { kNone, kBlockRows, kChannelMean };

// One input of channel_stats and what it must produce, [B, H, Dp] float32 each (zero past
// head_dim); a null output is not computed.
struct ChannelStatsSource {
  const void* x = nullptr;  // [B, H, L, D] through the strides; last dim contiguous
  ElemType x_type = ElemType::kFp16;
  int64_t stride_b = 0, stride_h = 0, stride_l = 0;
  bool vector_loads = false;
  float* mean = nullptr;    // the token mean
  bool centre = false;      // the absmax below is of x minus its token mean (V smoothing)
  float* inv = nullptr;     // kE4M3Max / absmax, 0 for an all-zero channel: the FP8 V multiplier
  float* factor = nullptr;  // what O / l is multiplied by: absmax / 448 (/ 448 more with kTimes448)
};

// Per-channel token statistics of K and/or V in one launch: each CTA reduces one token range
// (split) of one (batch, head, source) into the partials; the last CTA of a (batch, head,
// source) to arrive reduces the splits in split order, so the result does not depend on
// scheduling. Sums are FP64 so that the mean does not depend on the order either (the golden
// model sums in another order; docs/numerics.md, step 1).
struct ChannelStatsParams {
  ChannelStatsSource src[2];
  int sources = 0;
  int batch = 0, heads = 0, len = 0, head_dim = 0;
  int splits = 1, rows_per_split = 0;
  PScale p_scale = PScale::kTimes448;
  double* partial_sum = nullptr;     // [sources, B, H, splits, Dp]
  float* partial_extrema = nullptr;  // [sources, B, H, splits, 2 (max, min), Dp]
  unsigned* arrivals = nullptr;    // [sources, B, H], zero before the launch
};

// Per-thread scales are always stored expanded: kThreadGroups entries per warp group, so the
// attention kernel reads one layout whatever the granularity.
inline constexpr int kScaleGroupsPerWarp = 8;

// Q or K: token rows -> symmetric INT8/INT4 in [B, H, len_pad, row_bytes] (zero-padded).
struct QuantRowsParams {
  const void* x = nullptr;  // [B, H, L, D] through the strides below; last dim contiguous
  ElemType x_type = ElemType::kFp16;
  int64_t stride_b = 0, stride_h = 0, stride_l = 0;
  int batch = 0, heads = 0, len = 0, head_dim = 0;
  bool vector_loads = false;  // 16-byte loads are legal (alignment and strides checked on host)
  std::int8_t* out = nullptr;  // [B, H, len_pad, row_bytes]
  int len_pad = 0;
  // Row r is stored at padded row r + lead_rows (KernelNumerics::q_lead_rows; 0 for K): the
  // padding, len_pad - len rows of zeros, comes first by lead_rows rows, then last.
  int lead_rows = 0;
  QkBits bits = QkBits::kInt8;
  float* scale = nullptr;  // [B, H, blocks, warp groups per block, 8], times scale_mult
  float scale_mult = 1.0f;  // sm_scale * log2(e) for Q, 1 for K
  ScaleGroups groups = ScaleGroups::kPerWarp;
  MeanSource mean_source = MeanSource::kNone;
  const float* channel_mean = nullptr;  // kChannelMean: [B, H, Dp]
  float* mean_out = nullptr;            // kBlockRows: [B, H, blocks, head_dim]
};

// V -> the PV operand: FP8 E4M3 transposed [B, H, Dp, len_pad] with the token permutation of
// each 32-token group (kFp8), or fp16 [B, H, len_pad, Dp] (kFp16). Zero-padded.
struct QuantVParams {
  const void* x = nullptr;
  ElemType x_type = ElemType::kFp16;
  int64_t stride_b = 0, stride_h = 0, stride_l = 0;
  int batch = 0, heads = 0, len = 0, head_dim = 0;
  bool vector_loads = false;
  PvType pv = PvType::kFp8;
  void* out = nullptr;
  int len_pad = 0;
  const float* mean = nullptr;  // [B, H, Dp] token mean (V smoothing) or null
  const float* inv = nullptr;   // kFp8: [B, H, Dp] kE4M3Max / absmax of the (smoothed) V
};

struct AttentionParams {
  const std::int8_t* q = nullptr;  // [B, Hq, len_q_pad, qk_bytes]
  const std::int8_t* k = nullptr;  // [B, Hkv, len_k_pad, qk_bytes]
  const void* v = nullptr;         // QuantVParams::out
  const float* q_scale = nullptr;  // [B, Hq, q_blocks, 4, 8]
  const float* k_scale = nullptr;  // [B, Hkv, k_blocks, 8]
  const float* delta_s = nullptr;  // [B, Hq, q_blocks, len_k_pad] or null (no Q smoothing)
  const float* v_factor = nullptr; // [B, Hkv, Dp]: what O/l is multiplied by (kFp8) or null
  const float* v_mean = nullptr;   // [B, Hkv, Dp] or null
  void* out = nullptr;             // [B, Hq, len_q, head_dim] through the strides
  ElemType out_type = ElemType::kFp16;
  int64_t out_stride_b = 0, out_stride_h = 0, out_stride_l = 0;
  float* lse = nullptr;  // [B, Hq, len_q] natural log, or null
  int batch = 0, heads_q = 0, heads_kv = 0, len_q = 0, len_k = 0, head_dim = 0;
  int len_q_pad = 0, len_k_pad = 0;
  bool causal = false;
  // Padding rows before Q's row 0 in the first Q block (KernelNumerics::q_lead_rows): row r of
  // the head sits at padded row r + q_lead_rows of q and its scales. The wgmma kernel only.
  int q_lead_rows = 0;
};

}  // namespace sageattn::cuda
