// The shape of one validated attention request, read once from the tensors so dispatch and
// kernels never re-derive it.
#pragma once

#include <ATen/core/Tensor.h>

#include "sageattn/types.h"

namespace sageattn {

struct Problem {
  int64_t batch = 0;
  int64_t heads_q = 0;
  int64_t heads_kv = 0;
  int64_t len_q = 0;
  int64_t len_k = 0;
  int64_t head_dim = 0;
  at::ScalarType dtype = at::kHalf;
  c10::Device device = c10::kCPU;
  Layout layout = Layout::kHND;
  bool causal = false;
  double sm_scale = 0.0;  // resolved: options.sm_scale or 1/sqrt(head_dim)
  Granularity granularity = Granularity::kPerWarp;  // resolved from the options and variant
  bool smooth_q = false;                              // resolved: options.smooth_q or the default
};

// Validates q, k, v against the options and fills a Problem; throws c10::Error naming the
// offending argument ("q", "k", "v", "options.sm_scale", ...) and its value.
Problem validate(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                 const AttentionOptions& options);

}  // namespace sageattn
