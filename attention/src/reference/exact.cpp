// Exact attention in FP64, and the dense softmax attention it shares with the kFp16 golden.
#include <ATen/ATen.h>

#include <limits>

#include "problem.h"
#include "reference/dense.h"
#include "reference/layout.h"
#include "sageattn/reference.h"

namespace sageattn::reference {

AttentionResult dense_attention_hnd(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const Problem& p, int64_t row_offset) {
  const at::Tensor keys = expand_kv_heads(k, p.heads_q);
  const at::Tensor values = expand_kv_heads(v, p.heads_q);
  at::Tensor s = at::matmul(q, keys.transpose(2, 3)) * p.sm_scale;
  if (p.causal) {
    s.masked_fill_(causal_mask(q.size(2), row_offset, 0, p.len_k),
                   -std::numeric_limits<double>::infinity());
  }
  AttentionResult r;
  r.lse = at::logsumexp(s, -1);
  r.out = at::matmul(at::exp(s - r.lse.unsqueeze(-1)), values);
  return r;
}

namespace {

AttentionResult exact_impl(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& options, Rows rows) {
  Problem p = validate(q, k, v, options);
  TORCH_CHECK(rows.begin >= 0 && rows.begin < rows.end && rows.end <= p.len_q,
              "sageattn::reference::exact_attention_rows: rows [", rows.begin, ", ", rows.end,
              ") are not inside [0, ", p.len_q, ")");
  // Narrow before the copy: a slice of a long sequence converts only its own rows.
  const at::Tensor qd = to_cpu_hnd(
      q.narrow(token_dim(options.layout), rows.begin, rows.end - rows.begin), options.layout,
      at::kDouble);
  p.len_q = rows.end - rows.begin;
  AttentionResult r = dense_attention_hnd(qd, to_cpu_hnd(k, options.layout, at::kDouble),
                                          to_cpu_hnd(v, options.layout, at::kDouble), p,
                                          rows.begin);
  r.out = from_hnd(r.out, options.layout);
  return r;
}

}  // namespace

AttentionResult exact_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const AttentionOptions& options) {
  const int64_t len_q = q.dim() == 4 ? q.size(token_dim(options.layout)) : 0;
  return exact_impl(q, k, v, options, Rows{0, len_q});
}

AttentionResult exact_attention_rows(const at::Tensor& q, const at::Tensor& k,
                                     const at::Tensor& v, const AttentionOptions& options,
                                     int64_t row_begin, int64_t row_end) {
  return exact_impl(q, k, v, options, Rows{row_begin, row_end});
}

}  // namespace sageattn::reference
