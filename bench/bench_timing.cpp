#include "bench_timing.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "bench_energy.h"

namespace sagegen::bench {

Timing time_on_gpu(const std::function<void(int)>& run, int warmup, int iters,
                   const EnergyCounter* energy) {
  for (int i = 0; i < warmup; ++i) run(i);
  const auto stream = at::cuda::getCurrentCUDAStream();
  // Events time only when created with timing on (torch's default disables it).
  std::vector<at::cuda::CUDAEvent> starts, stops;
  for (int i = 0; i < iters; ++i) {
    starts.emplace_back(cudaEventDefault);
    stops.emplace_back(cudaEventDefault);
  }
  // The energy window opens once the warm-up has finished and closes when the last timed call
  // has: the calls in between are queued back to back, so the GPU is busy all through it.
  double joules_before = 0.0;
  std::chrono::steady_clock::time_point opened;
  if (energy) {
    stream.synchronize();
    joules_before = energy->joules();
    opened = std::chrono::steady_clock::now();
  }
  for (int i = 0; i < iters; ++i) {
    starts[i].record(stream);
    run(warmup + i);
    stops[i].record(stream);
  }
  stream.synchronize();
  Timing timing;
  if (energy) {
    const double joules = energy->joules() - joules_before;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - opened).count();
    timing.joules_per_call = joules / iters;
    timing.watts = seconds > 0 ? joules / seconds : -1.0;
  }
  std::vector<double> times_ms;
  for (int i = 0; i < iters; ++i) times_ms.push_back(starts[i].elapsed_time(stops[i]));
  std::sort(times_ms.begin(), times_ms.end());
  timing.min_ms = times_ms.front();
  timing.max_ms = times_ms.back();
  const size_t mid = times_ms.size() / 2;
  timing.median_ms = times_ms.size() % 2 ? times_ms[mid] : 0.5 * (times_ms[mid - 1] + times_ms[mid]);
  return timing;
}

}  // namespace sagegen::bench
