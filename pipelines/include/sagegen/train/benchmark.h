// Where a training step's time goes (`sagegen train --benchmark N`, docs/training.md): the
// step time a run gets, split into waiting for data, the phases of the step, and, under the
// profiler, the device's kernels. Nothing is saved: the weights it moves are thrown away.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sagegen/train/trainer.h"
#include "sagegen/train/training_data.h"

namespace sagegen::train {

struct BenchmarkOptions {
  int warmup_steps = 10;   // untimed: allocator, cuDNN/cuBLAS selection, first data
  int steps = 30;          // timed steps of each pass
  int profile_steps = 0;   // steps under the profiler (0: no kernel table)
  std::string trace_path;  // with profile_steps: write the profiler's Chrome trace here (empty: none)
};

struct BenchmarkReport {
  struct Row {
    std::string name;
    double ms_per_step = 0;
    double calls_per_step = 0;
  };
  std::string device;
  std::string mode;  // how the steps ran: Trainer::step_mode() ("eager", "CUDA graphs (N captured)")
  int steps = 0;
  double samples_per_step = 0;
  // Pass 1, as a training run: no synchronisation between steps.
  double step_ms = 0;        // wall time a step
  double data_wait_ms = 0;   // of which the trainer waited for a batch
  // Pass 2: the device synchronised after every phase of every step (slower than pass 1 by
  // the overlap it removes); ms a step for each phase, in order.
  std::vector<Row> phases;
  // The data threads: one thread's time for one batch.
  double render_ms_per_batch = 0;
  double prepare_ms_per_batch = 0;
  int data_threads = 0;
  // Pass 3 (profile_steps > 0): the device's busiest kernels (CPU ops on a CPU run), busy time
  // and kernel launches a step.
  std::vector<Row> kernels;
  double busy_ms = 0;
  double launches_per_step = 0;
  std::string profile_error;  // why the profiler did not run, if it did not
};

BenchmarkReport benchmark_training(Trainer& trainer, TrainingData& data,
                                   const BenchmarkOptions& options);

// The report as lines for the terminal (and scripts/gpu_train.sh's summary).
std::string format_benchmark(const BenchmarkReport& report);

}  // namespace sagegen::train
