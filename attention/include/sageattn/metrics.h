// Error of an attention output against a reference, all computed in FP64 on the CPU. Used by
// tests, calibration (the paper's CosSim * (1 - L1)) and benchmarks.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace sageattn {

struct ErrorMetrics {
  double cos_sim = 0.0;     // sum(a*r) / sqrt(sum(a^2) * sum(r^2)) over all elements
  double rel_l1 = 0.0;      // sum|a - r| / sum|r|
  double rmse = 0.0;        // sqrt(mean((a - r)^2))
  double max_abs = 0.0;     // max |a - r|
  double nmse = 0.0;        // sum((a - r)^2) / sum(r^2)
  double cos_l1 = 0.0;      // cos_sim * (1 - rel_l1): the SageAttention2 paper's metric
  int64_t nonfinite = 0;    // NaN/Inf elements of `actual` (the other metrics are then NaN)

  // "cos 0.999912 relL1 0.0123 rmse 1.2e-03 max 4.5e-02 nmse 1.8e-04 cos*(1-L1) 0.98776".
  std::string str() const;
};

// actual and reference: same shape, any dtype/device. A zero reference gives rel_l1 and nmse
// of +inf unless actual is zero too (then 0); cos_sim of two zero tensors is 1.
ErrorMetrics compare(const at::Tensor& actual, const at::Tensor& reference);

}  // namespace sageattn
