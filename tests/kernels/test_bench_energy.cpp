// The benchmark's energy measurement (`sagegen_bench_attention --energy`, bench/bench_energy.h):
// the flag, a clear reason where the board's counter cannot be read (a machine without a GPU or
// without the driver's NVML), and on a GPU a counter that moves with the work and a per-call
// figure from the timing loop in a plausible power range.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_energy.h"
#include "bench_options.h"
#include "bench_timing.h"

namespace sagegen::bench {
namespace {

TEST(BenchEnergy, TheFlagTurnsTheMeasurementOn) {
  EXPECT_FALSE(parse_bench_args({"--iters", "5"}).energy);
  EXPECT_TRUE(parse_bench_args({"--energy", "--iters", "5"}).energy);
  EXPECT_NE(usage_text().find("--energy"), std::string::npos);
}

TEST(BenchEnergy, OpensTheCounterOrSaysWhyNot) {
  std::string why;
  const auto counter = EnergyCounter::open(0, &why);
  if (!at::hasCUDA()) {
    ASSERT_EQ(counter, nullptr) << "no CUDA device, yet a counter opened";
    EXPECT_NE(why.find("CUDA device 0"), std::string::npos) << why;
    return;
  }
  // A device that does not exist is refused with a reason even where NVML is present, and
  // leaves no CUDA error behind for the next CUDA call to trip over.
  std::string missing;
  EXPECT_EQ(EnergyCounter::open(4096, &missing), nullptr);
  EXPECT_NE(missing.find("CUDA device 4096"), std::string::npos) << missing;
  EXPECT_NO_THROW(at::ones({4}, at::TensorOptions().device(at::kCUDA)).sum().item<float>());
  if (counter == nullptr) GTEST_SKIP() << "this GPU machine has no readable energy counter: " << why;
  EXPECT_GT(counter->joules(), 0.0) << "the counter counts from the driver's load";
}

// About a second of bf16 matrix products: the board's energy over it must grow by what a GPU
// under load draws (tens to hundreds of watts), and the timing loop's per-call figure must agree.
TEST(BenchEnergy, TheCounterMovesWithTheWorkAndThePerCallFigureFollows) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  std::string why;
  const auto counter = EnergyCounter::open(0, &why);
  if (counter == nullptr) GTEST_SKIP() << "no readable energy counter: " << why;
  const auto options = at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16);
  const at::Tensor a = at::randn({8192, 8192}, options), b = at::randn({8192, 8192}, options);
  at::Tensor c = at::mm(a, b);
  // Calls of ~4 matrix products; enough of them for well over a second on any current GPU.
  const auto call = [&](int) {
    for (int i = 0; i < 4; ++i) c = at::mm(a, b);
  };
  const auto started = std::chrono::steady_clock::now();
  const Timing timing = time_on_gpu(call, 2, 200, counter.get());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_GT(timing.joules_per_call, 0.0) << "no energy counted over " << seconds << " s of work";
  std::printf("measured: %.3f J per call, %.0f W, median %.3f ms over %.2f s\n",
              timing.joules_per_call, timing.watts, timing.median_ms, seconds);
  EXPECT_GT(timing.watts, 30.0) << timing.joules_per_call << " J per call";
  EXPECT_LT(timing.watts, 2000.0) << timing.joules_per_call << " J per call";
  // Energy per call = mean power x time per call, within the counter's coarseness and the
  // spread of the calls' times.
  const double from_power = timing.watts * timing.median_ms * 1e-3;
  EXPECT_NEAR(timing.joules_per_call, from_power, 0.25 * from_power)
      << timing.watts << " W, median " << timing.median_ms << " ms";
}

}  // namespace
}  // namespace sagegen::bench
