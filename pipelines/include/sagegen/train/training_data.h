// Where training batches come from. A batch is a pure function of (seed, step), so a resumed
// run sees exactly the batches an uninterrupted one would have.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sagegen/train/train_config.h"

namespace sagegen::train {

struct TrainingBatch {
  // [B, 3, F, H, W] float32 in [-1, 1], or the world's [B, F, H, W, 3] uint8 (the trainer
  // converts it on its device: a quarter of the bytes to copy, no float work on the CPU). CPU.
  at::Tensor pixels;
  std::vector<std::string> captions;  // B captions, before caption dropout
};

class TrainingData {
 public:
  virtual ~TrainingData() = default;
  // Steps are asked for in increasing order, starting anywhere (resume).
  virtual TrainingBatch batch_for_step(std::int64_t step) = 0;
};

// The frame count and batch size of step `step` under the config's frames mix.
FramesMixEntry frames_for_step(const TrainConfig& config, std::int64_t step);

// Scenes from the procedural shapes world (sagegen/world/shapes_world.h), rendered on the CPU
// by config.data_threads background threads that keep that many batches ahead of the trainer.
std::unique_ptr<TrainingData> make_shapes_world_data(const TrainConfig& config);

// The same batch at every step (tests: a model must be able to fit it).
std::unique_ptr<TrainingData> make_fixed_data(TrainingBatch batch);

}  // namespace sagegen::train
