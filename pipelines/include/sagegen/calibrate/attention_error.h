// The calibrator's per-call error of a quantized attention output against full precision,
// reduced where the tensors live: on the GPU only three scalars ever reach the host (and only
// once per calibration, see MetricAccumulator), never the tensors.
#pragma once

#include <ATen/core/Tensor.h>

namespace sagegen::calibrate {

// Positions in the tensor attention_error returns.
enum ErrorIndex : int { kCos = 0, kRelL1 = 1, kCosL1 = 2, kErrorCount = 3 };

// A float64 tensor of 3 on the inputs' device: [cos, rel L1, cos * (1 - rel L1)], with the
// definitions of sageattn::compare (metrics.h): cos of two zero tensors is 1, rel L1 against a
// zero reference is 0 when actual is zero too, else +inf; a NaN/Inf in actual makes them NaN.
// Products are formed in float32 and summed in float64. actual and reference: same shape.
at::Tensor attention_error(const at::Tensor& actual, const at::Tensor& reference);

}  // namespace sagegen::calibrate
