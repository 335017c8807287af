// The training step as CUDA graphs, one per batch shape: the first steps of a shape run eagerly
// on a side stream (cuBLAS workspaces, cuDNN plans, the caching allocator and the RoPE tables
// settle), the next one is captured there, and every later step of that shape replays the graph
// on the current stream: one launch from the host instead of a step's ~2,400.
//
// What the caller guarantees (trainer.cpp): the step reads its inputs from tensors allocated
// before the capture (static per shape) and written before each call; everything that changes
// from step to step (noise, t, learning rate, EMA weight, AdamW's step count) is in those
// tensors, never a host scalar; nothing in the step reads the device from the host. The graphs
// share one memory pool, which is safe because they run one at a time on one stream and each
// keeps its outputs alive.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <string>

namespace sagegen::train {

// The tensors a captured step leaves for the host to read (they are overwritten by the next
// replay of the same graph).
struct StepOutputs {
  at::Tensor loss;       // 0-dim, the step's loss
  at::Tensor grad_norm;  // 0-dim, the global gradient norm before clipping
};

class StepGraphs {
 public:
  // False when this build has no CUDA (the graphs need libtorch's CUDA part).
  static bool available();

  // device: the CUDA device the step runs on; eager_steps: steps of each shape run eagerly
  // before its capture (>= 1).
  StepGraphs(const c10::Device& device, int eager_steps);
  ~StepGraphs();
  StepGraphs(const StepGraphs&) = delete;
  StepGraphs& operator=(const StepGraphs&) = delete;

  // One step of the shape `shape` (any string naming it). `step(capturing)` runs the step and
  // returns its outputs; it is called eagerly (capturing false) or under capture (true), or not
  // at all when the shape's graph is replayed. Throws RunError naming --cuda-graphs off when a
  // capture fails.
  StepOutputs run(const std::string& shape, const std::function<StepOutputs(bool capturing)>& step);

  int captured() const;  // graphs captured so far
  bool capturing() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sagegen::train
