// Every CUDA kernel variant against its CPU golden model (a few ULPs) and against exact FP64
// attention (no worse than the golden model's own error), on fresh random inputs with outlier
// channels, NaN guards around the inputs and NaN-poisoned output memory.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "kernel_bounds.h"
#include "kernel_case.h"
#include "kernel_checks.h"
#include "sageattn/attention.h"
#include "sageattn/metrics.h"
#include "sageattn/reference.h"
#include "sageattn/tiles.h"

namespace sagegen::kernel_tests {
namespace {

using sageattn::Layout;

// Up to this many query rows the whole output is compared; beyond, three whole Q blocks (the
// CPU golden model costs about a second per 128 rows x 4096 keys on 2 cores, and over 32768 rows
// it would take minutes). The NaN check always covers the whole output.
constexpr int64_t kWholeCompareRows = 256;
// Poison this much more than the output itself: the call's quantized operands and scratch
// come from the same allocator.
constexpr int64_t kPoisonExtraBytes = int64_t{64} << 20;

struct RowRange {
  int64_t begin, end;
};

// The first, a middle and the last Q block of the kernel's tiles: the last one is partial at odd
// lengths and, causal, sees every key; causal on the wgmma kernel, the first one is partial
// instead (its padding rows come first, KernelNumerics::q_lead_rows). With two blocks there is no
// middle one (with 256-row tiles and 500 rows the "middle" block would have been the partial last
// one, read past len_q).
std::vector<RowRange> compared_rows(const KernelCase& c, int64_t block_q, int64_t lead) {
  if (c.len_q <= kWholeCompareRows) return {{0, c.len_q}};
  const int64_t blocks = sageattn::q_block_count(c.len_q, static_cast<int>(block_q), lead);
  std::vector<RowRange> rows{{0, std::min(block_q - lead, c.len_q)}};
  if (blocks > 2) {
    const int64_t middle = blocks / 2 * block_q - lead;
    rows.push_back({middle, middle + block_q});
  }
  if (blocks > 1) rows.push_back({(blocks - 1) * block_q - lead, c.len_q});
  return rows;
}

std::string numerics_name(const sageattn::KernelNumerics& n) {
  if (n.pv_accumulation != sageattn::PvAccumulation::kWgmmaTruncating) return "mma";
  std::string name = "wgmma(block_q " + std::to_string(n.tiles.block_q);
  if (n.key_split.splits > 1) {
    name += ", tiles from " + std::to_string(n.key_split.first_tile) + " in " +
            std::to_string(n.key_split.splits) + " key splits";
  }
  if (n.q_lead_rows > 0) name += ", " + std::to_string(n.q_lead_rows) + " padding rows first";
  return name + ")";
}

uint64_t fresh_seed() { return (uint64_t{std::random_device{}()} << 32) | std::random_device{}(); }

int64_t token_dim(Layout layout) { return layout == Layout::kHND ? 2 : 1; }

class KernelVsGolden : public ::testing::TestWithParam<KernelCase> {};

TEST_P(KernelVsGolden, MatchesGoldenModelAndExact) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  const KernelCase& c = GetParam();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("case " + c.name() + " seed " + std::to_string(seed));
  const GuardedInputs in = make_guarded_inputs(c, seed);
  const sageattn::AttentionOptions options = c.options();
  const std::string why = sageattn::why_unsupported(in.q, in.k, in.v, options);
  // A pinned kernel family exists on some archs only (wgmma2: sm_90); everything else must run.
  if (c.family != sageattn::KernelFamily::kAuto && !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(why.empty()) << "the kernel refused the case: " << why;

  // The golden model reproduces the numerics of the kernel family this request runs on.
  const sageattn::KernelNumerics numerics = sageattn::kernel_numerics(in.q, in.k, in.v, options);
  poison_cuda_allocator(in.q.numel() * in.q.element_size() + kPoisonExtraBytes);
  const sageattn::AttentionResult result = sageattn::attention(in.q, in.k, in.v, options);
  ASSERT_TRUE(result.out.defined());
  ASSERT_EQ(result.out.sizes(), in.q.sizes());
  ASSERT_EQ(result.out.scalar_type(), c.dtype);
  ASSERT_TRUE(result.out.is_cuda());
  const int64_t nonfinite = (~at::isfinite(result.out)).sum().item<int64_t>();
  ASSERT_EQ(nonfinite, 0) << "NaN/Inf in the output: unwritten elements (poisoned memory), or a "
                             "read of the NaN guards around the inputs";
  const std::string touched = check_inputs_untouched(in);
  EXPECT_TRUE(touched.empty()) << touched;

  sageattn::AttentionOptions golden_options = options;
  golden_options.engine = sageattn::Engine::kGolden;
  const GoldenBound golden_limit = golden_bound(c.variant, c.dtype);
  const ExactBound exact_limit = exact_bound(c.variant);
  for (const RowRange rows : compared_rows(c, numerics.tiles.block_q, numerics.q_lead_rows)) {
    const at::Tensor got =
        result.out.narrow(token_dim(c.layout), rows.begin, rows.end - rows.begin);
    const at::Tensor golden = sageattn::reference::golden_attention_rows(
                                  in.q, in.k, in.v, golden_options, rows.begin, rows.end,
                                  numerics)
                                  .out;
    const at::Tensor exact =
        sageattn::reference::exact_attention_rows(in.q, in.k, in.v, options, rows.begin, rows.end)
            .out;
    const UlpStats ulp = ulp_distance(got, golden, c.dtype);
    const sageattn::ErrorMetrics kernel_err = sageattn::compare(got, exact);
    const sageattn::ErrorMetrics golden_err = sageattn::compare(golden, exact);
    // One greppable line per slice: scripts/gpu_suite.sh collects them to set the bounds.
    std::printf("measured: %s %s rows [%lld,%lld) vs golden: %s | kernel vs exact: %s | golden "
                "vs exact: relL1 %.4g cos %.6f\n",
                c.name().c_str(), numerics_name(numerics).c_str(), static_cast<long long>(rows.begin),
                static_cast<long long>(rows.end), ulp.str().c_str(), kernel_err.str().c_str(),
                golden_err.rel_l1, golden_err.cos_sim);
    EXPECT_LE(ulp.frac_over_2, golden_limit.max_frac_over_2_ulp) << ulp.str();
    EXPECT_LE(ulp.frac_over_8, golden_limit.max_frac_over_8_ulp) << ulp.str();
    EXPECT_LE(ulp.max_ulp, golden_limit.max_ulp) << ulp.str();
    EXPECT_LE(kernel_err.rel_l1,
              exact_limit.rel_l1_factor * golden_err.rel_l1 + exact_limit.rel_l1_slack)
        << "kernel vs exact: " << kernel_err.str() << "; golden vs exact: " << golden_err.str();
    EXPECT_GE(kernel_err.cos_sim, exact_limit.min_cos) << "kernel vs exact: " << kernel_err.str();
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, KernelVsGolden, ::testing::ValuesIn(all_kernel_cases()),
                         [](const ::testing::TestParamInfo<KernelCase>& info) {
                           return info.param.name();
                         });

}  // namespace
}  // namespace sagegen::kernel_tests
