// Median GPU time of a callable, measured with CUDA events on the current stream.
#pragma once

#include <functional>

namespace sagegen::bench {

struct Timing {
  double median_ms = 0.0;
  double min_ms = 0.0;
  double max_ms = 0.0;
};

// run(i) launches one call on input set i % sets (the caller rotates buffers so repeated calls
// don't run out of L2). `warmup` untimed calls first; each timed call gets its own event pair.
Timing time_on_gpu(const std::function<void(int)>& run, int warmup, int iters);

}  // namespace sagegen::bench
