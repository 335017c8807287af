#include "bench_timing.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>

#include <algorithm>
#include <vector>

namespace sagegen::bench {

Timing time_on_gpu(const std::function<void(int)>& run, int warmup, int iters) {
  for (int i = 0; i < warmup; ++i) run(i);
  const auto stream = at::cuda::getCurrentCUDAStream();
  // Events time only when created with timing on (torch's default disables it).
  std::vector<at::cuda::CUDAEvent> starts, stops;
  for (int i = 0; i < iters; ++i) {
    starts.emplace_back(cudaEventDefault);
    stops.emplace_back(cudaEventDefault);
  }
  for (int i = 0; i < iters; ++i) {
    starts[i].record(stream);
    run(warmup + i);
    stops[i].record(stream);
  }
  stream.synchronize();
  std::vector<double> times_ms;
  for (int i = 0; i < iters; ++i) times_ms.push_back(starts[i].elapsed_time(stops[i]));
  std::sort(times_ms.begin(), times_ms.end());
  Timing timing;
  timing.min_ms = times_ms.front();
  timing.max_ms = times_ms.back();
  const size_t mid = times_ms.size() / 2;
  timing.median_ms = times_ms.size() % 2 ? times_ms[mid] : 0.5 * (times_ms[mid - 1] + times_ms[mid]);
  return timing;
}

}  // namespace sagegen::bench
