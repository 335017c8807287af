// The error bounds GPU kernels are held to, per variant and output dtype, with where each number
// comes from.
#pragma once

#include <c10/core/ScalarType.h>

#include "sageattn/types.h"

namespace sagegen::kernel_tests {

// Kernel vs its golden model, element-wise in ULPs of the output dtype (kernel_checks.h).
// The kernel and the golden model compute the same quantized operands, so they differ by FP32
// rounding (summation order, an FMA where the golden model rounds twice, token means reduced in
// another order) plus what that does at rounding ties: an INT8/INT4 or FP8 value that lands on
// the other side of a rounding boundary. Ties move a few elements by more; the fractions bound
// them. fp16 outputs have 3 more significand bits than bf16, so the same error is 8x the ULPs.
struct GoldenBound {
  double max_frac_over_2_ulp;  // fraction of elements more than 2 ULPs from the golden model
  double max_frac_over_8_ulp;
  double max_ulp;              // any single element
};

// Kernel vs exact FP64 attention, FA3's rule: at most `rel_l1_factor` times the golden model's
// own error against exact (the same numerics must not be worse than their emulation), plus a
// slack of the output rounding. min_cos is the floor docs/numerics.md asserts for the golden
// model over its shape sweep (GoldenShapes: sage2-8b and sage1 >= 0.999, sage2-4b >= 0.95);
// its per-variant table bounds were measured on other inputs (milder outliers, L = 1024) and do
// not transfer to these.
struct ExactBound {
  double rel_l1_factor;
  double rel_l1_slack;
  double min_cos;
};

GoldenBound golden_bound(sageattn::Variant variant, at::ScalarType output_dtype);
ExactBound exact_bound(sageattn::Variant variant);

}  // namespace sagegen::kernel_tests
