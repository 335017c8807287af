#include "bench_accuracy.h"

#include <ATen/ATen.h>

#include <limits>

namespace sagegen::bench {
namespace {

// [L, D] of one (batch, head) in either layout.
at::Tensor head_matrix(const at::Tensor& x, sageattn::Layout layout, int64_t batch, int64_t head) {
  return layout == sageattn::Layout::kHND ? x.select(0, batch).select(0, head)
                                          : x.select(0, batch).select(1, head);
}

int64_t head_count(const at::Tensor& x, sageattn::Layout layout) {
  return layout == sageattn::Layout::kHND ? x.size(1) : x.size(2);
}

}  // namespace

at::Tensor exact_rows(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                      sageattn::Layout layout, const RowSlice& slice, bool causal,
                      double sm_scale) {
  // GQA: query head h reads key/value head h / (H_q / H_kv).
  const int64_t group = head_count(q, layout) / head_count(k, layout);
  const int64_t kv_head = slice.head / group;
  const at::Tensor q_rows = head_matrix(q, layout, slice.batch, slice.head)
                                .slice(0, slice.row_begin, slice.row_end)
                                .to(at::kCPU, at::kDouble);
  const at::Tensor k_all = head_matrix(k, layout, slice.batch, kv_head).to(at::kCPU, at::kDouble);
  const at::Tensor v_all = head_matrix(v, layout, slice.batch, kv_head).to(at::kCPU, at::kDouble);
  at::Tensor scores = at::matmul(q_rows, k_all.t()) * sm_scale;  // [rows, L_k]
  if (causal) {
    const auto rows = at::arange(slice.row_begin, slice.row_end, scores.options().dtype(at::kLong));
    const auto keys = at::arange(k_all.size(0), scores.options().dtype(at::kLong));
    scores.masked_fill_(keys.unsqueeze(0) > rows.unsqueeze(1),
                        -std::numeric_limits<double>::infinity());
  }
  return at::matmul(at::softmax(scores, -1), v_all);
}

at::Tensor output_rows(const at::Tensor& out, sageattn::Layout layout, const RowSlice& slice) {
  return head_matrix(out, layout, slice.batch, slice.head)
      .slice(0, slice.row_begin, slice.row_end)
      .to(at::kCPU, at::kDouble);
}

Accuracy compare_rows(const at::Tensor& got_rows, const at::Tensor& want_rows, bool finite) {
  Accuracy accuracy;
  accuracy.finite = finite;
  const at::Tensor got = got_rows.flatten();
  const at::Tensor want = want_rows.flatten();
  accuracy.cos = (at::dot(got, want) / (got.norm() * want.norm())).item<double>();
  accuracy.rel_l1 = ((got - want).abs().sum() / want.abs().sum()).item<double>();
  return accuracy;
}

}  // namespace sagegen::bench
