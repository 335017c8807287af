// The FP8 E4M3 matrix-product ceiling of the card (torch _scaled_mm, 8192^3), printed once per
// run so the attention TOPS have a reference point measured in the same process.
#pragma once

namespace sagegen::bench {

// TFLOPS of a median of `iters` 8192^3 products; throws c10::Error where _scaled_mm can't run.
double fp8_gemm_tflops(int warmup, int iters);

}  // namespace sagegen::bench
