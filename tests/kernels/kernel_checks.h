// What a GPU kernel test measures: element-wise distance to the golden model in ULPs of the
// output dtype, and NaN poisoning of the device memory the API allocates its outputs from.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "sageattn/types.h"

namespace sagegen::kernel_tests {

struct UlpStats {
  double max_ulp = 0.0;
  double p999_ulp = 0.0;       // 99.9th percentile
  double frac_over_2 = 0.0;    // fraction of elements more than 2 ULPs apart
  double frac_over_8 = 0.0;
  int64_t nonfinite = 0;       // NaN/Inf in `actual`
  int64_t elements = 0;
  std::string str() const;
};

// |actual - expected| in ULPs of `dtype` (bf16: 8 significant bits, fp16: 11) at the expected
// value's magnitude. Magnitudes under rms(expected) / 64 count at rms / 64: FP32 accumulation
// order is noise of absolute size, which would read as thousands of ULPs next to an output that
// happens to be near zero.
UlpStats ulp_distance(const at::Tensor& actual, const at::Tensor& expected, at::ScalarType dtype);

// Fills the CUDA caching allocator's free memory with NaN (all-ones bytes: NaN in fp16, bf16 and
// fp32) so an output element the kernel never writes reads back as NaN: the API allocates its
// outputs itself, so there is no out tensor to poison. `bytes`: at least what the call allocates.
void poison_cuda_allocator(int64_t bytes);

// Why the sm_90a wgmma kernel does not run this call here (another route or kernel family, in
// the selector's words); empty when it does. For the tests of that kernel's launch settings.
std::string why_not_wgmma(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const sageattn::AttentionOptions& options);

// Where `actual` differs from `expected` bit for bit (same shape; 2- or 4-byte floats: -0 and +0
// differ, as would any other rounding), in words; empty when every bit is the same.
std::string bit_difference(const at::Tensor& actual, const at::Tensor& expected);

}  // namespace sagegen::kernel_tests
