// Accuracy columns of the benchmark: a variant's output on a slice of query rows against exact
// FP64 attention of the same rows, so no speed is reported without its error next to it.
#pragma once

#include <ATen/core/Tensor.h>

#include "sageattn/types.h"

namespace sagegen::bench {

// Query rows [row_begin, row_end) of one (batch, head); whole Q blocks when taken from the end.
struct RowSlice {
  int64_t batch = 0;
  int64_t head = 0;
  int64_t row_begin = 0;
  int64_t row_end = 0;
};

// Exact attention of the slice's rows in float64 on the CPU: [rows, D]. Causal is top-left
// aligned like torch SDPA (row r sees keys 0..r), with r the row's index in the full sequence.
at::Tensor exact_rows(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                      sageattn::Layout layout, const RowSlice& slice, bool causal,
                      double sm_scale);

// The slice's rows of an output tensor as float64 on the CPU: [rows, D].
at::Tensor output_rows(const at::Tensor& out, sageattn::Layout layout, const RowSlice& slice);

struct Accuracy {
  double cos = 0.0;     // cosine similarity over the whole slice
  double rel_l1 = 0.0;  // sum |got - want| / sum |want|
  bool finite = false;  // no NaN / Inf in the whole output (not only the slice)
};

Accuracy compare_rows(const at::Tensor& got_rows, const at::Tensor& want_rows, bool finite);

}  // namespace sagegen::bench
