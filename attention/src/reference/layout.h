// Layout helpers. The HND view and its way back serve the golden model, exact attention and the
// torch SDPA route (attention.cpp); the rest serves the golden model and exact attention, which
// work on contiguous HND [B, H, L, D] CPU tensors.
#pragma once

#include <ATen/ATen.h>

#include "sageattn/types.h"

namespace sageattn::reference {

inline int64_t token_dim(Layout layout) { return layout == Layout::kNHD ? 1 : 2; }

// [B, H, L, D] view of a tensor in `layout` (no copy).
inline at::Tensor hnd_view(const at::Tensor& x, Layout layout) {
  return layout == Layout::kNHD ? x.transpose(1, 2) : x;
}

// Any layout/device/dtype -> contiguous HND on the CPU in `dtype`.
inline at::Tensor to_cpu_hnd(const at::Tensor& x, Layout layout, at::ScalarType dtype) {
  return hnd_view(x, layout).to(at::kCPU, dtype).contiguous();
}

// HND -> the caller's layout (contiguous).
inline at::Tensor from_hnd(const at::Tensor& x, Layout layout) {
  return layout == Layout::kNHD ? x.transpose(1, 2).contiguous() : x;
}

// GQA: query head h reads kv head h / (H_q / H_kv), so kv head j serves the run of query heads
// [j * group, (j + 1) * group): repeat_interleave over the head dim.
inline at::Tensor expand_kv_heads(const at::Tensor& x, int64_t heads_q) {
  const int64_t heads_kv = x.size(1);
  return heads_kv == heads_q ? x : x.repeat_interleave(heads_q / heads_kv, 1);
}

// [rows, keys] true where query row (row_offset + r) must not see key c (top-left causal).
inline at::Tensor causal_mask(int64_t rows, int64_t row_offset, int64_t key_begin, int64_t keys) {
  const at::Tensor row = at::arange(row_offset, row_offset + rows, at::kLong).unsqueeze(1);
  const at::Tensor key = at::arange(key_begin, key_begin + keys, at::kLong).unsqueeze(0);
  return key > row;
}

}  // namespace sageattn::reference
