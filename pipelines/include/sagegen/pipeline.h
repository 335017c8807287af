// The engine's public API: load a model once, generate images and videos many times.
// The CLI, batch runner and tests are clients of this header only (plus request.h).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/errors.h"
#include "sagegen/model_config.h"
#include "sagegen/request.h"
#include "sagegen/stage_stats.h"

namespace sagegen {

namespace parallel {
class ProcessGroup;
}

struct StepProgress {
  int step = 0;   // 1-based: the number of denoising steps finished
  int total = 0;  // request.steps
  double seconds_elapsed = 0;
};
using ProgressFn = std::function<void(const StepProgress&)>;

struct GenerateResult {
  at::Tensor video;  // [frames, height, width, 3] uint8 on the CPU; an image is 1 frame
  std::map<std::string, std::int64_t> attention_calls;  // variant name -> number of calls
  double seconds_total = 0;     // denoising loop plus decoding to uint8
  double seconds_per_step = 0;  // mean over the denoising steps
  std::vector<double> step_seconds;
  // This call's stages in order (text encoding, denoising, VAE decoding or decoding), each with
  // its time and, on CUDA, its peak memory; `load` is how this Pipeline was loaded (the same for
  // every call; a Wan folder's text encoder loads inside "text encoding", when a prompt is new).
  std::vector<StageStats> stages;
  StageStats load;
  std::string device;       // "cpu" or "cuda:0"
  std::string model_name;   // the config's `name`
  std::string table_path;   // empty when no table was used (override or model without table)
  std::string attention_override;  // variant name when request.attention was set, else empty
  bool random_weights = false;     // true: the output is noise
  std::vector<std::string> unknown_words;  // of the prompt, not in the model's vocabulary
  // Of the prompt, in no caption the model was trained on (models with `captions:` only).
  std::vector<std::string> words_outside_captions;
  std::int64_t seed = 0;
  int width = 0, height = 0, frames = 0, steps = 0;
};

// One denoising step timed on random inputs (sagegen bench-pipeline): the model forward on the
// batched cond/uncond pair at the request's size, attention share measured in a separate pass
// that synchronises the device around every attention call.
struct DenoiseStepTiming {
  double seconds_per_step = 0;            // without per-call synchronisation
  double attention_seconds_per_step = 0;  // from the synchronised pass
  double synced_seconds_per_step = 0;     // the synchronised pass's whole step
  std::map<std::string, std::int64_t> attention_calls;  // per step
  std::int64_t video_tokens = 0;  // per sample
  std::int64_t text_tokens = 0;
  int batch = 0;                  // 2 with CFG, else 1
  std::string device;
  int ranks = 1;  // processes of the group (use_sequence_parallel)
  // CFG's two branches ran on two halves of the ranks (parallel/cfg_parallel.h), Ulysses over
  // ranks / 2 inside each; false: both branches in every rank's batch, Ulysses over all ranks.
  bool cfg_parallel = false;
  // From the synchronised pass: this rank's time in the collectives (all-to-alls, output gather,
  // CFG exchange), and the bytes they sent to other ranks.
  double communication_seconds_per_step = 0;
  std::int64_t communication_bytes_per_step = 0;
};

// Holds a model (DiT + text encoder), its tokenizer and adaptive table on one device.
// options.model is a model config (YAML) or a Wan2.1 diffusers folder (docs/wan.md).
// Two lifetimes: load() takes the LoadOptions (model, weights, device, default table) once;
// every GenerateRequest is per generate() call, so one loaded model serves many requests.
// Errors: ConfigError (model/weights/table files and keys),
// RequestError (device not available, bad size/frames/steps in generate()).
class Pipeline {
 public:
  static std::unique_ptr<Pipeline> load(const LoadOptions& options);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Thread-compatible, not thread-safe: one generate() at a time per Pipeline.
  // request.table, when set, runs that table for this call (read and checked against the model
  // and device on first use, then kept; a bad one is a ConfigError naming it); empty: the loaded
  // table. request.attention overrides either.
  GenerateResult generate(const GenerateRequest& request, const ProgressFn& progress = {});

  // Times one denoising step (works for latent-space benchmark shapes too, which generate()
  // refuses for lack of a VAE). request.width/height/frames give the size in pixels; cfg_scale
  // != 1 batches cond and uncond. warmup >= 0, repeats >= 1.
  DenoiseStepTiming time_denoise_step(const GenerateRequest& request, int warmup, int repeats);

  // Splits the DiT's tokens over `group`'s ranks for later generate() and time_denoise_step()
  // calls (Ulysses: docs/multi-gpu.md). Every rank runs the same request and gets the same
  // result; the caller lets one rank write it. nullptr: back to one process.
  // With CFG and an even number of ranks, the two CFG branches run on two halves of the ranks
  // (parallel/cfg_parallel.h) unless SAGEGEN_CFG_PARALLEL=off; this call then forms the
  // subgroups, so every rank must make it (a bad SAGEGEN_CFG_PARALLEL throws
  // std::invalid_argument naming it).
  void use_sequence_parallel(std::shared_ptr<parallel::ProcessGroup> group);

  // Sees every attention call of later generate() calls (the calibrator, tests): DiT layers with
  // their step, and the text encoder's calls with step -1. An empty function removes it.
  void set_attention_observer(AttentionObserver observer);

  // The words of `prompt` the model has no embedding for (read as <unk>), in order, once each.
  std::vector<std::string> unknown_words(const std::string& prompt) const;

  const std::string& model_name() const;
  const std::string& model_config_path() const;  // the YAML file the model resolved to
  const std::string& weights_path() const;  // the file loaded; empty with random weights
  const std::string& table_path() const;    // the adaptive table loaded; empty: none
  // Attention layer ids the adaptive table covers (2 * depth for the DiT).
  int attention_layers() const;
  // The model's own precision rules, under every table (ModelConfig::precision_rules): a Wan
  // folder's cross-attention in fp16; none for the built-in models.
  const std::vector<sageattn::TableRule>& model_precision_rules() const;
  const std::string& device_name() const;
  bool random_weights() const;
  // The patch in pixels (height, width): a request's height and width are multiples of these.
  int patch_height() const;
  int patch_width() const;
  // Empty when the DiT's attention calls can run `variant` on this pipeline's device, else the
  // reason in words: the selector sageattn::attention() uses, asked with the model's heads, head
  // dim, dtype and layout before any generation spends time (compare checks --variants with it).
  std::string why_variant_unsupported(sageattn::Variant variant) const;

 private:
  struct Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What load() and generate() check against the device's memory, from the model config alone
// (no weights read, no tensor made): a ConfigError for a model whose parameters cannot fit, a
// RequestError naming width/height/frames for activations that cannot. Clients call it before
// load() so a request that cannot fit fails at once.
void check_fits_before_load(const LoadOptions& options, const GenerateRequest& request);

// The ModelConfig of `model` without loading weights: the YAML config it resolves to, or
// for a Wan2.1 diffusers folder what its configs say (diffusers::wan_folder_model_config).
ModelConfig model_config_of(const std::string& model);

// Finds a model config: an existing file path as given, a diffusers folder's model_index.json
// (Pipeline::load takes the folder itself), otherwise `<name>.yaml` under
// configs/models/ of $SAGEGEN_ROOT, the working directory, the executable's directory or one of
// their parents.
// Throws ConfigError listing the places searched.
std::string resolve_model_config(const std::string& model);

}  // namespace sagegen
