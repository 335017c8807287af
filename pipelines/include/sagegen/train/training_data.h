// Where training batches come from. A batch is a pure function of (seed, step), so a resumed
// run sees exactly the batches an uninterrupted one would have.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
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
  // The captions tokenized ahead (Trainer::batch_preparer, on the render threads): [B, L] int64
  // ids, <pad> after each row's tokens, and [B] int64 lengths. Undefined: the trainer tokenizes.
  at::Tensor token_ids;
  at::Tensor token_lengths;
  // Timestep shift of the batch's kind (FramesMixEntry::shift): the trainer draws its t from
  // sigmoid(N(mean + ln shift, std^2)).
  double timestep_shift = 1.0;
};

// Work done on a batch by the threads that render it, before the trainer takes it (tokenize
// the captions, copy into pinned memory for an asynchronous copy to the GPU). Must be
// thread-safe: several batches are prepared at once.
using BatchPreparer = std::function<void(TrainingBatch&)>;

// What the render threads spent, for the training benchmark (docs/training.md).
struct DataStats {
  std::int64_t batches = 0;       // rendered (and prepared) so far
  double render_seconds = 0;      // summed over the threads: scenes and captions
  double prepare_seconds = 0;     // summed over the threads: the BatchPreparer
};

class TrainingData {
 public:
  virtual ~TrainingData() = default;
  // Steps are asked for in increasing order, starting anywhere (resume).
  virtual TrainingBatch batch_for_step(std::int64_t step) = 0;
  virtual DataStats stats() const { return {}; }
};

// The frame count and batch size of step `step` under the config's frames mix.
FramesMixEntry frames_for_step(const TrainConfig& config, std::int64_t step);

// Scenes from the procedural shapes world (sagegen/world/shapes_world.h), rendered on the CPU
// by config.data_threads background threads that keep that many batches ahead of the trainer;
// `prepare` (optional) runs on those threads on every batch.
std::unique_ptr<TrainingData> make_shapes_world_data(const TrainConfig& config,
                                                     BatchPreparer prepare = {});

// The same batch at every step (tests: a model must be able to fit it).
std::unique_ptr<TrainingData> make_fixed_data(TrainingBatch batch);

}  // namespace sagegen::train
