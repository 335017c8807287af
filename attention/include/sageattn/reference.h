// The CPU golden model (the exact numerics every kernel must reproduce) and exact FP64
// attention. Both take the same tensors and options as sageattn::attention().
// docs/numerics.md states the contract step by step and the measured error of each variant.
#pragma once

#include "sageattn/attention.h"
#include "sageattn/quant.h"
#include "sageattn/tiles.h"

namespace sageattn::reference {

// Runs design.md section 2 step by step on the CPU with the numerics of one kernel family
// (tiles.h): `numerics.tiles` gives the quantization groups, the online-softmax step and the
// two-level chain; `numerics.p_scale` and `numerics.pv_accumulation` pick how the FP8 P operand
// is scaled and how one K block's FP8 PV product is accumulated (sage2 variants only; sage1
// and fp16 ignore them). kMmaNumerics (the default) is the mma.sync kernels, kWgmmaNumerics the
// sm_90a wgmma kernels; docs/numerics.md states both.
// options.variant picks the variant (kFp16: plain FP32 attention of the input values;
// kAuto is refused: the caller decides what auto means on its device).
// Inputs may live on any device; the result comes back on q's device in q's dtype.
AttentionResult golden_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionOptions& options,
                                 KernelNumerics numerics = kMmaNumerics);

// The golden model on the query rows [row_begin, row_end) of the full q only, for checking a
// slice of a long sequence (L = 32768) against a kernel's output on the full problem. k and v
// are whole (K/V smoothing and V scales use every token); row_begin must be 0 or start a Q block
// and row_end end one or be L_q (Q block b: rows [b * block_q - numerics.q_lead_rows,
// (b + 1) * block_q - q_lead_rows)), so every Q block (smoothing mean, scale groups) is whole
// and the slice equals the same rows of golden_attention() up to FP32 summation order (the CPU
// matrix products block differently for other row counts). The causal mask uses the absolute row
// index. out: [B, H_q, rows, D] (HND) or [B, rows, H_q, D]
// (NHD); lse: [B, H_q, rows]. Compare with kernel_out.narrow(token_dim, row_begin, rows).
AttentionResult golden_attention_rows(const at::Tensor& q, const at::Tensor& k,
                                      const at::Tensor& v, const AttentionOptions& options,
                                      int64_t row_begin, int64_t row_end,
                                      KernelNumerics numerics = kMmaNumerics);

// Exact attention in float64 on the CPU. out is float64 in the options' layout; lse float64.
AttentionResult exact_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const AttentionOptions& options);

// Exact attention of the query rows [row_begin, row_end) only (any bounds; causal mask by
// absolute row index), shaped like golden_attention_rows().
AttentionResult exact_attention_rows(const at::Tensor& q, const at::Tensor& k,
                                     const at::Tensor& v, const AttentionOptions& options,
                                     int64_t row_begin, int64_t row_end);

// ---- The golden model's intermediate operands, for kernel tests that check a stage ----
// All CPU, HND, per the options' smoothing switches and granularity (unset: the variant's
// default); a disabled smoothing gives zero means and zero delta_s.
struct QuantizedQK {
  quant::IntFormat format = quant::IntFormat::kInt8;
  quant::TokenGroups q_groups;  // over L_q
  quant::TokenGroups k_groups;  // over L_k
  at::Tensor q_values;          // int8 [B, H_q, L_q, D] of q_hat (INT4: unpacked from packed)
  at::Tensor q_scales;          // float32 [B, H_q, q groups]: absmax/qmax * sm_scale * log2(e)
  at::Tensor k_values;          // int8 [B, H_kv, L_k, D] of k_hat
  at::Tensor k_scales;          // float32 [B, H_kv, k groups]: absmax/qmax
  at::Tensor k_mean;            // float32 [B, H_kv, 1, D]
  at::Tensor q_mean;            // float32 [B, H_q, Q blocks, D]
  at::Tensor delta_s;           // float32 [B, H_q, Q blocks, L_k]: (q_mean . k_hat) * sm_scale * log2(e)
};
// variant: kSage2Int8 / kSage1 (INT8) or kSage2Int4 (INT4).
QuantizedQK quantize_qk(const at::Tensor& q, const at::Tensor& k,
                        const AttentionOptions& options, TileShape tiles = kMmaTiles);

struct QuantizedV {
  at::Tensor values;  // float32 [B, H_kv, L_k, D]: E4M3 values (sage2) or fp16 values (sage1)
  at::Tensor scale;   // float32 [B, H_kv, 1, D]: absmax/448 (sage2), ones (sage1)
  at::Tensor mean;    // float32 [B, H_kv, 1, D]: token mean if smooth_v, else zeros
};
QuantizedV quantize_v(const at::Tensor& v, const AttentionOptions& options);

}  // namespace sageattn::reference
