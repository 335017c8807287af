// The CPU golden model (the exact numerics every kernel must reproduce) and exact FP64
// attention. Both take the same tensors and options as sageattn::attention().
#pragma once

#include "sageattn/attention.h"
#include "sageattn/tiles.h"

namespace sageattn::reference {

// Runs design.md section 2 step by step on the CPU with the quantization groups of `tiles`.
// options.variant picks the numerics (kFp16: plain FP32 attention of the input values).
// Inputs may live on any device; the result comes back on q's device in q's dtype.
AttentionResult golden_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionOptions& options, TileShape tiles = kMmaTiles);

// Exact attention in float64 on the CPU. out is float64 in the options' layout; lse float64.
AttentionResult exact_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const AttentionOptions& options);

}  // namespace sageattn::reference
