// Median GPU time of a callable, measured with CUDA events on the current stream, and with an
// energy counter the board's energy over the timed calls.
#pragma once

#include <functional>

namespace sagegen::bench {

class EnergyCounter;

struct Timing {
  double median_ms = 0.0;
  double min_ms = 0.0;
  double max_ms = 0.0;
  // With an energy counter: the board's joules over the timed calls per call, and the mean power
  // over them (the GPU runs the queued calls back to back); < 0: not measured.
  double joules_per_call = -1.0;
  double watts = -1.0;
};

// run(i) launches one call on input set i % sets (the caller rotates buffers so repeated calls
// don't run out of L2). `warmup` untimed calls first; each timed call gets its own event pair.
// energy (may be null): read after the warm-up calls have finished and after the last timed one.
Timing time_on_gpu(const std::function<void(int)>& run, int warmup, int iters,
                   const EnergyCounter* energy = nullptr);

}  // namespace sagegen::bench
