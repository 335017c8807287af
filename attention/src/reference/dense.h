// Plain softmax attention on HND CPU tensors, in their dtype: float32 for the kFp16 golden
// model, float64 for exact attention.
#pragma once

#include <ATen/core/Tensor.h>

#include "problem.h"
#include "sageattn/attention.h"

namespace sageattn::reference {

// Query rows of q are the absolute rows [row_offset, row_offset + q.size(2)) (causal mask);
// p gives heads, length of K, sm_scale and causal. lse is natural log, in q's dtype.
AttentionResult dense_attention_hnd(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const Problem& p, int64_t row_offset);

// A half-open range of query rows.
struct Rows {
  int64_t begin;
  int64_t end;
};

}  // namespace sageattn::reference
