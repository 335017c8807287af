#include "bench_gemm_ceiling.h"

#include <ATen/ATen.h>

#include "bench_timing.h"

namespace sagegen::bench {

double fp8_gemm_tflops(int warmup, int iters) {
  constexpr int64_t kSize = 8192;
  const auto options = at::TensorOptions().device(at::kCUDA).dtype(at::kFloat);
  const at::Tensor a = at::randn({kSize, kSize}, options).to(at::kFloat8_e4m3fn);
  // _scaled_mm wants the second operand column-major.
  const at::Tensor b = at::randn({kSize, kSize}, options).to(at::kFloat8_e4m3fn).t();
  const at::Tensor scale = at::ones({}, options);
  const Timing timing = time_on_gpu(
      [&](int) {
        at::_scaled_mm(a, b, scale, scale, std::nullopt, std::nullopt, at::kBFloat16,
                       /*use_fast_accum=*/true);
      },
      warmup, iters);
  return 2.0 * kSize * kSize * kSize / (timing.median_ms * 1e-3) / 1e12;
}

}  // namespace sagegen::bench
