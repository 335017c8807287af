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
// Where the smoothing mean of a row block comes from: none, the block's own valid rows (Q),
// or the per-channel partial sums of column_stats over all tokens (K).
enum class MeanSource : int { kNone, kBlockRows, kPartialSums };
// What column_stats reduces over tokens, per channel.
enum class ColumnStat : int { kSum, kAbsMax };

// Per-channel partial statistics over tokens of one (batch, head), one token range per split;
// consumers reduce the splits in a fixed order, so the result is deterministic.
struct ColumnStatsParams {
  const void* x = nullptr;
  ElemType x_type = ElemType::kFp16;
  int64_t stride_b = 0, stride_h = 0, stride_l = 0;
  int batch = 0, heads = 0, len = 0, head_dim = 0;
  bool vector_loads = false;
  ColumnStat stat = ColumnStat::kSum;
  int splits = 1, rows_per_split = 0;
  // kAbsMax only: subtract the token mean (from these kSum partials) first, or null.
  const float* center_sums = nullptr;
  int center_splits = 0;
  float* partial = nullptr;  // [splits, B, H, head_dim]
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
  QkBits bits = QkBits::kInt8;
  float* scale = nullptr;  // [B, H, blocks, warp groups per block, 8], times scale_mult
  float scale_mult = 1.0f;  // sm_scale * log2(e) for Q, 1 for K
  ScaleGroups groups = ScaleGroups::kPerWarp;
  MeanSource mean_source = MeanSource::kNone;
  const float* mean_sums = nullptr;  // kPartialSums: [mean_splits, B, H, head_dim]
  int mean_splits = 0;
  float* mean_out = nullptr;       // kBlockRows: [B, H, blocks, head_dim]
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
  const float* mean_sums = nullptr;  // kSum partials [mean_splits, B, H, head_dim] or null
  int mean_splits = 0;
  const float* absmax_partials = nullptr;  // kFp8: kAbsMax partials of the smoothed V
  int absmax_splits = 0;
  // kFp8: [B, H, Dp] what O/l is scaled by: absmax / 448 / 448 (kTimes448) or absmax / 448
  // (kExp2Offset8), the P scaling of the attention kernel that reads it.
  float* factor_out = nullptr;
  PScale p_scale = PScale::kTimes448;
  float* mean_out = nullptr;    // with smoothing: [B, H, Dp] the mean, zero-padded
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
};

}  // namespace sageattn::cuda
