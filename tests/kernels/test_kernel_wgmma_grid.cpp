// The sm_90a wgmma kernel's grids (cuda_backend.h WgmmaGrid): one CTA per work item, or fewer
// CTAs that each walk several items (a persistent grid), with Q double-buffered, the K/V ring and
// the exponentials' turn running on from one item into the next, and the output tile's shared
// memory reused. A tile computes the same way whichever CTA runs it, so every grid must write the
// same bits; the caps below give each CTA up to all of the items of these small problems, with
// key-split items (partials merged by whichever CTA arrives last) among them. The golden-model
// comparison of the default (persistent) grid is KernelVsGolden's.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda_backend.h"
#include "kernel_case.h"
#include "kernel_checks.h"
#include "sageattn/attention.h"
#include "wgmma_grid_setting.h"

namespace sagegen::kernel_tests {
namespace {

using sageattn::KernelFamily;
using sageattn::Layout;
using sageattn::cuda_backend::WgmmaGrid;

std::vector<KernelCase> grid_cases() {
  std::vector<KernelCase> cases;
  auto add = [&](int64_t b, int64_t hq, int64_t hkv, int64_t lq, int64_t lk, int64_t d, bool causal,
                 at::ScalarType dtype, Layout layout) -> KernelCase& {
    cases.push_back(shaped_case(b, hq, hkv, lq, lk, d, causal, dtype, layout));
    return cases.back();
  };
  // Causal over 12 heads (the head groups of 8 and a partial one), GQA, both layouts and dtypes.
  add(2, 6, 3, 1000, 1000, 128, true, at::kBFloat16, Layout::kHND);
  add(1, 4, 2, 777, 777, 64, true, at::kHalf, Layout::kNHD);
  // Non-causal with the last wave split over its keys where the SM count plans it (48 tiles of
  // 8 key blocks), Lq != Lk, one query row.
  add(2, 4, 2, 1000, 1000, 128, false, at::kBFloat16, Layout::kHND);
  add(1, 3, 3, 300, 1500, 128, false, at::kHalf, Layout::kNHD);
  add(2, 2, 2, 1, 700, 64, false, at::kBFloat16, Layout::kHND);
  // The per-thread output stores (a 200-byte token stride), Q smoothing's delta_s instance, the
  // V mean in the staged channels, and the two-consumer tiles.
  add(1, 2, 2, 500, 500, 100, true, at::kBFloat16, Layout::kHND);
  add(1, 2, 2, 1000, 1000, 128, true, at::kBFloat16, Layout::kHND).smooth_q = true;
  add(1, 2, 2, 900, 900, 96, false, at::kBFloat16, Layout::kNHD).smooth_v = true;
  add(1, 2, 2, 1000, 1000, 128, true, at::kHalf, Layout::kHND).family = KernelFamily::kWgmma2;
  return cases;
}

class WgmmaGridBits : public ::testing::TestWithParam<KernelCase> {};

TEST_P(WgmmaGridBits, EveryGridWritesTheSameBits) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  const KernelCase& c = GetParam();
  const GuardedInputs in = make_guarded_inputs(c, /*seed=*/31);
  sageattn::AttentionOptions options = c.options();
  options.return_lse = true;
  if (const std::string why = why_not_wgmma(in.q, in.k, in.v, options); !why.empty()) {
    GTEST_SKIP() << why;
  }
  auto run = [&](WgmmaGrid grid, int max_ctas) {
    const ScopedWgmmaGrid setting(grid, max_ctas);
    poison_cuda_allocator(int64_t{64} << 20);
    return sageattn::attention(in.q, in.k, in.v, options);
  };
  const sageattn::AttentionResult full = run(WgmmaGrid::kFull, 0);
  ASSERT_EQ((~at::isfinite(full.out)).sum().item<int64_t>(), 0)
      << "NaN/Inf in the output: unwritten (poisoned) elements";
  // 0: one CTA per SM (at most one per item).
  for (const int max_ctas : {1, 2, 5, 0}) {
    SCOPED_TRACE("persistent grid, max_ctas " + std::to_string(max_ctas));
    const sageattn::AttentionResult walked = run(WgmmaGrid::kPersistent, max_ctas);
    EXPECT_EQ(bit_difference(walked.out, full.out), "") << "output";
    EXPECT_EQ(bit_difference(walked.lse, full.lse), "") << "LSE";
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, WgmmaGridBits, ::testing::ValuesIn(grid_cases()),
                         [](const ::testing::TestParamInfo<KernelCase>& info) {
                           return info.param.name();
                         });

// The setting itself (no device needed): a negative cap is refused with the function's name.
TEST(WgmmaGridSetting, RefusesANegativeCap) {
  if (!sageattn::cuda_backend::compiled()) GTEST_SKIP() << "this build has no CUDA kernels";
  const ScopedWgmmaGrid restore(sageattn::cuda_backend::wgmma_grid(),
                                sageattn::cuda_backend::wgmma_grid_max_ctas());
  try {
    sageattn::cuda_backend::set_wgmma_grid(WgmmaGrid::kPersistent, -1);
    FAIL() << "a negative max_ctas was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("set_wgmma_grid: max_ctas -1"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sagegen::kernel_tests
