// Flow-matching trainer of the built-in DiT and its text encoder (trained together):
// x_t = (1 - t) x0 + t noise with logit-normal t, loss = MSE(model(x_t, t), noise - x0);
// AdamW with fp32 master weights, warm-up + cosine LR, global-norm gradient clipping, EMA of the
// weights (what inference uses), bf16 autocast on CUDA and fp32 on the CPU. Attention runs the
// fp16 variant (torch SDPA), which is differentiable.
// Randomness (noise, t, caption dropout, frames mix) comes from generators seeded by
// (seed, step), so resuming from a checkpoint reproduces the uninterrupted run.
// On CUDA the whole step (forward, backward, clipping, AdamW, EMA) is captured in a CUDA graph
// per batch shape and replayed (config.cuda_graphs; docs/training.md): the same math as the
// eager step, which the CPU always runs.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "sagegen/io/safetensors.h"
#include "sagegen/model_config.h"
#include "sagegen/train/train_config.h"
#include "sagegen/train/training_data.h"

namespace sagegen::train {

struct TrainProgress {
  std::int64_t step = 0;   // optimizer steps done
  std::int64_t total = 0;  // config.steps
  double loss = 0;         // mean over the steps since the last report
  double lr = 0;
  double grad_norm = 0;    // before clipping, of the last step
  double samples_per_second = 0;
  double seconds = 0;      // since run() began
};
using TrainProgressFn = std::function<void(const TrainProgress&)>;
// Called by train_step at the end of each phase of a step, with the phase's name (the
// benchmark synchronises the device there to time it).
using PhaseFn = std::function<void(const char* phase)>;

class Trainer {
 public:
  // Builds the model from config.model (random init or config.init_weights) on `device`.
  Trainer(TrainConfig config, const at::Device& device);
  // The same with a model config given directly (tests).
  Trainer(TrainConfig config, ModelConfig model, const at::Device& device);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Work for the data threads (make_shapes_world_data): tokenizes a batch's captions and, when
  // training on CUDA, puts its tensors in pinned memory so the copies to the GPU are
  // asynchronous. Valid while this trainer lives.
  BatchPreparer batch_preparer() const;

  // One optimizer step on `batch`; returns the loss (a 0-dim device tensor, not synchronised).
  at::Tensor train_step(const TrainingBatch& batch);

  // Loss of the current (non-EMA) weights on `batch` with noise and t drawn from `seed`,
  // no caption dropout, no update. The same seed gives the same noise and t.
  double evaluate_loss(const TrainingBatch& batch, std::uint64_t seed);

  // Trains from step() to config.steps, reporting every log_every steps (and at the end),
  // appending to out_dir/loss.csv and writing out_dir/checkpoint-<step>.safetensors every
  // save_every steps and at the end, then out_dir/ema-bf16.safetensors.
  void run(TrainingData& data, const std::filesystem::path& out_dir,
           const TrainProgressFn& progress = {});

  // Model, EMA and AdamW moments (F32) with the step and seed in the metadata.
  void save_checkpoint(const std::filesystem::path& path) const;
  // Restores everything save_checkpoint wrote, or the parts a resume pack (export_resume_pack)
  // holds. The tensor names and shapes must match this model; its seed must equal config.seed
  // (else the data would differ).
  void load_checkpoint(const std::filesystem::path& path);

  // The benchmark's hook (train/benchmark.h); an empty function removes it. With CUDA graphs
  // the phases inside a step are one, "graph: ...".
  void set_phase_callback(PhaseFn on_phase);

  // How steps run: "eager", or "CUDA graphs (N captured)" (config.cuda_graphs on CUDA: each
  // batch shape runs a few steps eagerly, then its graph is captured and replayed).
  std::string step_mode() const;
  int graphs_captured() const;

  std::int64_t step() const;
  const TrainConfig& config() const;
  at::Device device() const;
  const ModelConfig& model_config() const;
  io::NamedTensors parameters() const;  // name -> live parameter (shares storage)
  io::NamedTensors ema_weights() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The checkpoint to resume from: `path` itself when it is a file, else the highest-step
// checkpoint-*.safetensors in the directory. Throws ConfigError when there is none.
std::filesystem::path find_checkpoint(const std::filesystem::path& path);

// Writes the EMA weights of a checkpoint as BF16 under the model's own tensor names: the file a
// model config's `weights:` key loads.
void export_ema_weights(const std::filesystem::path& checkpoint, const std::filesystem::path& out);

// Writes a checkpoint's resume pack: the weights and AdamW's second moment in BF16 (4 bytes a
// parameter instead of 16), what a run on another machine resumes from. Loading a pack restarts
// the EMA from the weights and the first moment from zero (Trainer::load_checkpoint).
void export_resume_pack(const std::filesystem::path& checkpoint, const std::filesystem::path& out);

}  // namespace sagegen::train
