#include "bench_accuracy.h"

#include <ATen/ATen.h>

#include "sageattn/metrics.h"
#include "sageattn/reference.h"

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
  // One (batch, head) of the inputs, kept 4-D, through the library's exact FP64 attention.
  // GQA: query head h reads key/value head h / (H_q / H_kv).
  const int head_axis = layout == sageattn::Layout::kHND ? 1 : 2;
  const int64_t group = head_count(q, layout) / head_count(k, layout);
  const auto one_head = [&](const at::Tensor& x, int64_t head) {
    return x.narrow(0, slice.batch, 1).narrow(head_axis, head, 1);
  };
  sageattn::AttentionOptions options;
  options.layout = layout;
  options.causal = causal;
  options.sm_scale = sm_scale;
  const at::Tensor out = sageattn::reference::exact_attention_rows(
      one_head(q, slice.head), one_head(k, slice.head / group), one_head(v, slice.head / group),
      options, slice.row_begin, slice.row_end).out;
  return out.reshape({slice.row_end - slice.row_begin, q.size(-1)});  // [rows, D]
}

at::Tensor output_rows(const at::Tensor& out, sageattn::Layout layout, const RowSlice& slice) {
  return head_matrix(out, layout, slice.batch, slice.head)
      .slice(0, slice.row_begin, slice.row_end)
      .to(at::kCPU, at::kDouble);
}

Accuracy compare_rows(const at::Tensor& got_rows, const at::Tensor& want_rows, bool finite) {
  const sageattn::ErrorMetrics metrics = sageattn::compare(got_rows, want_rows);
  return {metrics.cos_sim, metrics.rel_l1, finite};
}

}  // namespace sagegen::bench
