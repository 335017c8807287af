// A training run's settings (configs/train/*.yaml; docs/training.md lists every key). The CLI's
// flags override single keys through apply_train_setting, with the same checks as the YAML.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sagegen::train {

// One kind of batch in the mix: images are 1-frame videos. Every batch has one frame count;
// the kind is drawn per step with probability weight / sum of weights.
struct FramesMixEntry {
  int frames = 1;
  double weight = 1.0;
  int batch = 0;  // samples per batch of this kind; 0: the run's batch
  // Timestep shift of this kind's samples, as SD3/Wan's shift s (t -> s t / (1 + (s - 1) t)):
  // the logit-normal draw's mean moves by ln s. Above 1 it trains more at high noise, where a
  // clip's layout and motion are decided (docs/training.md, "Motion").
  double shift = 1.0;
};

// How the learning rate runs over steps (docs/training.md).
enum class ScheduleKind {
  kSingle,  // one warm-up + cosine over `steps` in all; a resumed run continues it
  kPerRun,  // every run (fresh or resumed) is its own warm-up + cosine over `steps` more steps
};

struct TrainConfig {
  std::string source_path;   // the YAML file (for messages); empty when built in code
  std::string model;         // model YAML path (resolved against the train YAML's directory)
  std::string init_weights;  // empty: random init from the model config's seed
  std::int64_t steps = 1000;
  int batch = 32;
  double lr = 4e-4;
  double min_lr_ratio = 0.1;  // cosine decays to lr * min_lr_ratio at the last step
  std::int64_t warmup_steps = 100;
  ScheduleKind schedule = ScheduleKind::kSingle;
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double adam_eps = 1e-8;
  double grad_clip = 1.0;      // max global L2 norm of the gradients; 0: no clipping
  double ema_decay = 0.999;
  double caption_dropout = 0.1;  // fraction of samples trained on the empty prompt (for CFG)
  double logit_normal_mean = 0.0;  // t = sigmoid(N(mean, std^2)), as SD3
  double logit_normal_std = 1.0;
  std::vector<FramesMixEntry> frames_mix{FramesMixEntry{}};
  int size = 64;         // square images and frames, size x size pixels
  int max_objects = 2;   // shapes world: 1 or 2 objects a scene
  double two_object_share = -1;  // chance of two objects (and a relation); < 0: the world's 1/2
  std::uint64_t seed = 0;
  std::int64_t log_every = 50;
  std::int64_t save_every = 1000;  // 0: only at the end
  int data_threads = 2;            // batches rendered ahead, each on its own thread
  // Wall-clock budget of the run in seconds (0: none). Once the step time is known the run
  // shortens `steps` to what fits, so the learning-rate schedule still ends at its minimum, and
  // it stops (saving as at the end) if the budget runs out anyway.
  double time_limit_seconds = 0;
  // On CUDA, capture the whole step (forward, backward, clipping, AdamW, EMA) in one CUDA graph
  // per batch shape and replay it: a step's thousands of kernel launches cost the host one
  // launch. Ignored on the CPU, where a step always runs eagerly. On by default since the
  // graph-vs-eager test (TrainCudaGraphs) passed on the H200; the gain there is small because
  // the eager step is already device-bound (61.8 vs 63.5 ms a step, docs/training.md).
  bool cuda_graphs = true;
};

// Throws ConfigError naming the file, line and key for an unknown key or a bad value.
TrainConfig load_train_config(const std::string& path);
TrainConfig parse_train_config(const std::string& yaml, const std::string& source_name,
                               const std::string& base_dir);

// Sets one key from text (a CLI flag): steps, batch, lr, warmup, ema, seed, log-every,
// save-every, grad-clip, caption-dropout, time-limit, cuda-graphs (on|off). Throws ConfigError "<flag>: ..." naming the bad value.
void apply_train_setting(TrainConfig& config, const std::string& key, const std::string& value,
                         const std::string& flag);

// Cross-key checks (warmup < steps, positive sizes...). Throws ConfigError naming the key.
void validate_train_config(const TrainConfig& config);

}  // namespace sagegen::train
