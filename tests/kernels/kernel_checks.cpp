#include "kernel_checks.h"

#include <ATen/ATen.h>
#include <ATen/DeviceAccelerator.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "sageattn/attention.h"

namespace sagegen::kernel_tests {
namespace {

// Explicit significand bits of the output dtype (the implicit leading one not counted).
int mantissa_bits(at::ScalarType dtype) {
  switch (dtype) {
    case at::kBFloat16: return 7;
    case at::kHalf: return 10;
    case at::kFloat: return 23;
    default: TORCH_CHECK(false, "ulp_distance: dtype ", dtype, " is not a floating output dtype");
  }
}

// Requests of at most 1 MiB come from the allocator's small pool (2 MiB segments): poison it
// with blocks of this size too, not only the large pool.
constexpr int64_t kSmallBlockBytes = int64_t{512} << 10;
constexpr int kSmallBlocks = 64;
constexpr int kLeftoverSegments = 4;

}  // namespace

std::string UlpStats::str() const {
  char text[160];
  std::snprintf(text, sizeof text, "ulp max %.1f p99.9 %.2f >2ulp %.2e >8ulp %.2e n %lld%s",
                max_ulp, p999_ulp, frac_over_2, frac_over_8, static_cast<long long>(elements),
                nonfinite ? " NONFINITE" : "");
  return text;
}

UlpStats ulp_distance(const at::Tensor& actual, const at::Tensor& expected, at::ScalarType dtype) {
  TORCH_CHECK(actual.sizes() == expected.sizes(), "ulp_distance: shapes ", actual.sizes(),
              " and ", expected.sizes(), " differ");
  const at::Tensor a = actual.to(at::kCPU, at::kDouble).flatten();
  const at::Tensor e = expected.to(at::kCPU, at::kDouble).flatten();
  UlpStats stats;
  stats.elements = a.numel();
  stats.nonfinite = (~at::isfinite(a)).sum().item<int64_t>();
  if (stats.nonfinite > 0) {
    stats.max_ulp = stats.p999_ulp = stats.frac_over_2 = stats.frac_over_8 = INFINITY;
    return stats;
  }
  const double floor_magnitude = std::max(e.square().mean().sqrt().item<double>() / 64, 1e-30);
  const at::Tensor magnitude = at::clamp_min(e.abs(), floor_magnitude);
  const at::Tensor ulp = at::exp2(at::floor(at::log2(magnitude)) - mantissa_bits(dtype));
  const at::Tensor distance = (a - e).abs() / ulp;
  stats.max_ulp = distance.max().item<double>();
  // kthvalue rather than quantile: quantile refuses inputs over 2^24 elements.
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(0.999 * distance.numel())));
  stats.p999_ulp = std::get<0>(distance.kthvalue(rank)).item<double>();
  stats.frac_over_2 = (distance > 2).to(at::kDouble).mean().item<double>();
  stats.frac_over_8 = (distance > 8).to(at::kDouble).mean().item<double>();
  return stats;
}

void poison_cuda_allocator(int64_t bytes) {
  // Drop the cached free blocks first, so the poisoned ones are the only ones left to reuse.
  // Twice: releasing the cache also hands back torch's cuBLAS workspaces (held since the first
  // GEMM), whose blocks land in the cache unpoisoned after the first release (seen on the H200:
  // after the delta_s GEMMs a fresh 16 MB tensor came from such a block).
  at::accelerator::emptyCache();
  at::accelerator::emptyCache();
  const auto byte_options = at::TensorOptions().device(at::kCUDA).dtype(at::kByte);
  std::vector<at::Tensor> blocks;
  // Halving sizes, all held at once: a best-fit request of each size takes (and poisons) any
  // cached block that the releases above left behind.
  for (int64_t size = bytes; size >= (int64_t{1} << 20); size /= 2) {
    blocks.push_back(at::full({size}, 0xFF, byte_options));
  }
  for (int i = 0; i < kSmallBlocks; ++i) blocks.push_back(at::full({kSmallBlockBytes}, 0xFF, byte_options));
  // Then the free rest of small segments that hold a live tensor (the streams' arrival counters,
  // alive for the process): best fit puts each of these halving sizes into such a remainder
  // first, so a few of each fill up to kLeftoverSegments of them to within 512 bytes (seen on the
  // H200: a 6000-byte tensor came from beside the counters once the key split made them grow).
  for (int64_t size = kSmallBlockBytes / 2; size >= 512; size /= 2) {
    for (int i = 0; i < kLeftoverSegments; ++i)
      blocks.push_back(at::full({size}, 0xFF, byte_options));
  }
}  // blocks freed here: back to the allocator's cache, full of NaN

std::string why_not_wgmma(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const sageattn::AttentionOptions& options) {
  const sageattn::Selection selection = sageattn::select_route(q, k, v, options);
  if (selection.route == sageattn::Route::kCudaKernel &&
      selection.plan.family == sageattn::KernelFamily::kWgmma) {
    return "";
  }
  return "the wgmma kernel does not run this case here: " + selection.describe();
}

std::string bit_difference(const at::Tensor& actual, const at::Tensor& expected) {
  const at::ScalarType bits = actual.element_size() == 2 ? at::kShort : at::kInt;
  const at::Tensor a = actual.view(bits), e = expected.view(bits);
  if (at::equal(a, e)) return "";
  return std::to_string((a != e).sum().item<int64_t>()) + " of " + std::to_string(actual.numel()) +
         " elements differ, max |diff| " +
         std::to_string(
             (actual.to(at::kFloat) - expected.to(at::kFloat)).abs().max().item<float>());
}

}  // namespace sagegen::kernel_tests
