// Programmatic launches (cuda_backend.h programmatic_launch; grid_dependency.cuh): the
// quantization's second launch and the wgmma attention kernel may start during the last wave of
// the launch before them, and their producer threads wait for that launch's end before reading
// its outputs. A read too early would see the poisoned memory the outputs were allocated from
// (NaN) or the previous call's values, so each case runs three times with fresh inputs and the
// allocator poisoned, and must write the bits of the same call launched the ordinary way. The
// shapes are long enough that launch 2 runs in several waves (the overlap happens), and cover
// causal, GQA, NHD, fp16, hd64, Q smoothing's delta_s GEMMs between launch 2 and the attention
// kernel, and a one-row query.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda_backend.h"
#include "kernel_case.h"
#include "kernel_checks.h"
#include "sageattn/attention.h"

namespace sagegen::kernel_tests {
namespace {

using sageattn::Layout;

// Sets the process's programmatic-launch setting for one test and puts the previous one back.
class ScopedProgrammaticLaunch {
 public:
  explicit ScopedProgrammaticLaunch(bool on)
      : previous_(sageattn::cuda_backend::programmatic_launch()) {
    sageattn::cuda_backend::set_programmatic_launch(on);
  }
  ~ScopedProgrammaticLaunch() { sageattn::cuda_backend::set_programmatic_launch(previous_); }
  ScopedProgrammaticLaunch(const ScopedProgrammaticLaunch&) = delete;
  ScopedProgrammaticLaunch& operator=(const ScopedProgrammaticLaunch&) = delete;

 private:
  bool previous_;
};

std::vector<KernelCase> launch_cases() {
  KernelCase smoothed = shaped_case(1, 4, 4, 2048, 2048, 128, true, at::kBFloat16, Layout::kHND);
  smoothed.smooth_q = true;
  return {shaped_case(2, 8, 8, 4096, 4096, 128, false, at::kBFloat16, Layout::kHND),
          shaped_case(2, 8, 8, 3000, 3000, 128, true, at::kBFloat16, Layout::kHND),
          shaped_case(1, 8, 2, 2500, 4001, 64, false, at::kHalf, Layout::kNHD), smoothed,
          shaped_case(2, 4, 4, 1, 4096, 128, false, at::kBFloat16, Layout::kNHD)};
}

class ProgrammaticLaunchBits : public ::testing::TestWithParam<KernelCase> {};

TEST_P(ProgrammaticLaunchBits, WritesTheBitsOfOrdinaryLaunches) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  const KernelCase& c = GetParam();
  for (const uint64_t seed : {41, 42, 43}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const GuardedInputs in = make_guarded_inputs(c, seed);
    sageattn::AttentionOptions options = c.options();
    options.return_lse = true;
    if (const std::string why = why_not_wgmma(in.q, in.k, in.v, options); !why.empty()) {
      GTEST_SKIP() << why;
    }
    auto run = [&](bool programmatic) {
      const ScopedProgrammaticLaunch setting(programmatic);
      poison_cuda_allocator(int64_t{256} << 20);
      return sageattn::attention(in.q, in.k, in.v, options);
    };
    const sageattn::AttentionResult ordinary = run(false);
    ASSERT_EQ((~at::isfinite(ordinary.out)).sum().item<int64_t>(), 0)
        << "NaN/Inf in the ordinary launches' output";
    const sageattn::AttentionResult programmatic = run(true);
    EXPECT_EQ(bit_difference(programmatic.out, ordinary.out), "") << "output";
    EXPECT_EQ(bit_difference(programmatic.lse, ordinary.lse), "") << "LSE";
    EXPECT_EQ(check_inputs_untouched(in), "");
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, ProgrammaticLaunchBits, ::testing::ValuesIn(launch_cases()),
                         [](const ::testing::TestParamInfo<KernelCase>& info) {
                           return info.param.name();
                         });

}  // namespace
}  // namespace sagegen::kernel_tests
