#include "kernel_bounds.h"

namespace sagegen::kernel_tests {

// Measured on the H100, 2026-11-25 22:36 and 22:59 UTC (scripts/gpu_suite.sh, two runs of the
// 108 cases x 1-3 slices, fresh seeds; the worst slice per variant and dtype, from the
// "measured:" lines of tests.log):
//   variant   dtype  max ULP  >2 ULP    >8 ULP    slices
//   sage1     bf16      2     0         0          104
//   sage1     fp16      8     8.5e-4    0           14
//   sage2-8b  bf16    120     6.0e-3    1.6e-3     104
//   sage2-8b  fp16     72     2.4e-3    1.0e-3      14
//   sage2-4b  bf16     25     1.2e-3    4.4e-4     104
//   sage2-4b  fp16    873     1.6e-2    6.1e-3      14
//   fp16      bf16    114     5.0e-2    4.2e-3     104   (torch SDPA vs the FP32 golden model)
//   fp16      fp16     21     4.8e-2    3.7e-3      14
// The worst sage2-8b slice is the first Q block of a causal case: rows that see few keys have P
// near 1, where one FP8 tie moves 1/16 of the row's weight (up to ~100 bf16 ULPs on the outlier
// V channels); INT4 ties move a score by 1/7 of a quantization step. In every slice the kernel's
// error against exact attention equalled the golden model's within 0.3%: the outliers are ties,
// not bugs. The bounds leave 3-10x room over the worst slice; an indexing, masking or scale bug
// moves most elements by many ULPs and fails the fractions. fp16 outputs have 3 more significand
// bits than bf16, so the same error reads as 8x the ULPs.
GoldenBound golden_bound(sageattn::Variant variant, at::ScalarType output_dtype) {
  const bool fp16_out = output_dtype == at::kHalf;
  switch (variant) {
    case sageattn::Variant::kSage1:
      return fp16_out ? GoldenBound{5e-3, 5e-4, 64} : GoldenBound{2e-3, 2e-4, 16};
    case sageattn::Variant::kSage2Int8:
      return fp16_out ? GoldenBound{3e-2, 1e-2, 4096} : GoldenBound{2e-2, 5e-3, 512};
    case sageattn::Variant::kSage2Int4:
      return fp16_out ? GoldenBound{5e-2, 2e-2, 8192} : GoldenBound{2e-2, 1e-2, 1024};
    case sageattn::Variant::kFp16:
    default:
      // torch SDPA rounds P to the input dtype before PV; the golden model keeps FP32 P. Not a
      // few-ULP match by construction: the exact-attention bound below is the real check.
      // Worst seen: 6.7e-2 over 2 ULP and 1.8e-2 over 8 (plain randn, L = 300, strided test).
      return GoldenBound{0.3, 0.06, 1024};
  }
}

ExactBound exact_bound(sageattn::Variant variant) {
  switch (variant) {
    case sageattn::Variant::kSage2Int4:
      // The golden model itself lands at cos 0.953-0.99 on these inputs (5x Q and 12-sigma K
      // outlier channels, L = 75..32768), and at 0.937 on one fresh seed of the L = 75 causal
      // case (H200, 2026-11-30; kernel equal to golden): the 1.05x-of-golden bound is the check.
      return {1.05, 1e-3, 0.92};
    case sageattn::Variant::kFp16:
      // FA3's rule as written (twice the FP32 emulation's error): SDPA measured 1.24-1.26x.
      return {2.0, 1e-3, 0.9999};
    default:
      // Measured: kernel vs exact within 1.003x of golden vs exact on all 236 slices.
      return {1.05, 1e-3, 0.999};
  }
}

}  // namespace sagegen::kernel_tests
