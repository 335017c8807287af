// The attention observer of a calibration: for every DiT attention call it runs each candidate
// variant on the same q, k, v and accumulates its error against the call's full-precision
// output per (layer, step, variant), on the tensors' device. The host sees the sums once, in
// result().
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/calibrate/metric_grid.h"

namespace sagegen::calibrate {

class MetricAccumulator {
 public:
  // layers: the DiT's attention ids (Pipeline::attention_layers()); steps: the run's steps.
  // engine: sageattn's engine for the candidates (auto: kernels on CUDA, golden model on CPU).
  MetricAccumulator(int layers, int steps, std::vector<sageattn::Variant> candidates,
                    sageattn::Engine engine = sageattn::Engine::kAuto);

  // The AttentionObserver: ignores calls outside the grid (the text encoder runs at step -1
  // with ids >= layers). A candidate that cannot run on the call's tensors is skipped and
  // listed in unavailable(). Throws c10::Error for a step >= steps.
  void observe(const AttentionCall& call);

  // Candidate -> why it could not run (the first reason seen). Empty when all ran.
  const std::map<sageattn::Variant, std::string>& unavailable() const { return unavailable_; }
  std::int64_t calls_measured() const { return calls_; }

  // Means and worst values per (layer, step, variant); cells never called have 0 samples.
  MetricGrid result() const;

 private:
  int layers_;
  int steps_;
  std::vector<sageattn::Variant> candidates_;
  sageattn::Engine engine_;
  // [layers, steps, candidates, 3] float64 on the calls' device, allocated on the first call.
  at::Tensor sums_;
  // The same shape: the minimum of [cos, -rel L1, metric] (rel L1 negated so one minimum gives
  // the worst of all three).
  at::Tensor worst_;
  at::Tensor worst_sign_;  // [1, -1, 1]
  std::vector<int> samples_;  // host counts, [layers, steps, candidates]
  std::map<sageattn::Variant, std::string> unavailable_;
  std::int64_t calls_ = 0;
  int head_dim_ = 0;
};

}  // namespace sagegen::calibrate
