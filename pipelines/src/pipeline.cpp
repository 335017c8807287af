#include "sagegen/pipeline.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "attention_policy.h"
#include "request_checks.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/wan_pipeline.h"
#include "wan_generate.h"
#include "sagegen/eval/prompt_parser.h"
#include "resource_limits.h"
#include "sageattn/attention.h"
#include "table_device_check.h"
#include "sagegen/attention_context.h"
#include "sagegen/model_config.h"
#include "sagegen/models/prediction.h"
#include "sagegen/models/text_encoder.h"
#include "sagegen/models/text_to_video_model.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/parallel/cfg_parallel.h"
#include "sagegen/models/weights.h"
#include "sagegen/scheduler.h"
#include "sagegen/text/tokenizer.h"

namespace sagegen {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

at::Device choose_device(DeviceChoice choice) {
  const bool cuda = torch::cuda::is_available();
  switch (choice) {
    case DeviceChoice::kCpu: return at::Device(at::kCPU);
    case DeviceChoice::kCuda:
      if (!cuda) {
        throw RequestError({{"device", "cuda"}},
                           "CUDA is not available (no GPU visible, or this libtorch has no "
                           "CUDA); use cpu or auto");
      }
      return at::Device(at::kCUDA, 0);
    case DeviceChoice::kAuto: return cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  }
  return at::Device(at::kCPU);
}

at::ScalarType compute_dtype(const ModelConfig& config, const at::Device& device) {
  if (device.is_cpu()) return at::kFloat;  // CPU bf16 matmuls are slow and not what tests pin
  switch (config.cuda_dtype) {
    case ComputeDType::kFloat32: return at::kFloat;
    case ComputeDType::kBFloat16: return at::kBFloat16;
    case ComputeDType::kFloat16: return at::kHalf;
  }
  return at::kFloat;
}

int element_size(const ModelConfig& config, const at::Device& device) {
  return static_cast<int>(c10::elementSize(compute_dtype(config, device)));
}

// Empty when the DiT's attention calls can run `variant` with these tensor options: the
// dispatcher's selector asked with the model's heads and head dim in NHD (as
// AttentionContext::attend calls it). Token counts do not decide support; a few will do.
std::string why_dit_cannot_run(const ModelConfig& config, const at::TensorOptions& options,
                               sageattn::Variant variant) {
  const at::Tensor probe = at::zeros({1, 16, config.dit.heads, config.dit.head_dim}, options);
  sageattn::AttentionOptions probe_options;
  probe_options.variant = variant;
  probe_options.layout = sageattn::Layout::kNHD;
  return sageattn::why_unsupported(probe, probe, probe, probe_options);
}

void synchronize(const at::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

bool all_finite(const at::Tensor& t) { return at::isfinite(t).all().item<bool>(); }

// CUDA raises c10::OutOfMemoryError; the CPU allocator a plain c10::Error with this text.
bool is_out_of_memory(const c10::Error& e) {
  return dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr ||
         std::string(e.what_without_backtrace()).find("can't allocate memory") !=
             std::string::npos;
}

std::string first_line(const char* text) {
  const std::string s(text);
  return s.substr(0, s.find('\n'));
}

// Loaded weights with NaN or Inf would turn every image black; refused with the tensor's name.
void check_weights_finite(const std::map<std::string, at::Tensor>& parameters,
                          const std::string& path) {
  for (const auto& [name, param] : parameters) {
    const std::int64_t bad = (~at::isfinite(param)).sum().item<std::int64_t>();
    if (bad > 0) {
      throw ConfigError(fmt::format("{}: tensor '{}' has {} non-finite values (NaN/Inf) of {}",
                                    path, name, bad, param.numel()));
    }
  }
}

// "attention layer 5 (block 2 cross-attention, sage2-8b)" in words a user can act on.
std::string describe_layer(int layer, int dit_layers, sageattn::Variant variant) {
  const std::string kind =
      layer >= dit_layers
          ? fmt::format("text encoder layer {}", layer - dit_layers)
          : fmt::format("block {} {}", layer / 2, layer % 2 == 0 ? "self-attention" : "cross-attention");
  return fmt::format("attention layer {} ({}, {})", layer, kind, sageattn::to_string(variant));
}

}  // namespace

struct Pipeline::Impl {
  ModelConfig config;
  at::Device device{at::kCPU};
  std::string device_name;
  std::optional<text::WordTokenizer> tokenizer;
  std::shared_ptr<models::TextEncoder> text_encoder;
  std::shared_ptr<models::WanTransformer3DModel> dit;
  // A Wan2.1 diffusers folder (then dit is its transformer, and tokenizer/text_encoder are unset).
  std::unique_ptr<diffusers::WanTextToVideo> wan;
  std::optional<sageattn::PrecisionTable> table;  // fixed by load(): the default of every call
  std::string table_path;
  at::TensorOptions dit_options;  // the DiT's device and dtype
  // Tables a generate() request named besides the loaded one, loaded and checked on first use and
  // kept by path, so one loaded model runs several tables (compare, calibrate) without reloading.
  mutable std::map<std::string, sageattn::PrecisionTable> request_tables;
  // (table path, step count) pairs whose shadowed rules have been logged: a batch of jobs on one
  // table warns once, not once per job.
  mutable std::set<std::pair<std::string, int>> shadow_warnings_logged;
  AttentionObserver observer;
  std::shared_ptr<parallel::ProcessGroup> sequence_group;
  StageStats load_stage;  // how load() went: every GenerateResult carries it
  // With an even number of ranks: CFG's two branches on two halves of them (velocity()).
  std::unique_ptr<parallel::CfgParallel> cfg_split;

  // The DiT's output for the batch [x, x] (CFG) or [x]: one batched forward, or with cfg_split
  // each half of the ranks runs one branch and the halves swap their outputs.
  at::Tensor dit_output(const at::Tensor& x, double timestep, const at::Tensor& text,
                        AttentionContext& attention) const;
  // Every group whose collectives a timing pass counts.
  std::vector<parallel::ProcessGroup*> communication_groups() const;

  // Builds the model of `config` (a YAML config) and fills it from its weights (or random ones);
  // returns the parameter count.
  std::int64_t load_built_in_model(const at::TensorOptions& options);
  // Reads a table and checks it against the model and the device: ConfigError naming the file.
  sageattn::PrecisionTable load_table(const std::string& path) const;
  // The table a request runs and its path: request.table when set, else the loaded one (none:
  // nullptr).
  const sageattn::PrecisionTable* table_for(const GenerateRequest& request, std::string& path) const;

  // An attention context for `steps` sampling steps, with the request's override or the table.
  AttentionContext make_context(const GenerateRequest& request, int steps) const;
  // [B, text_length, text_dim]: the prompt, then (with CFG) the negative prompt.
  // prompt_warning: kSilent where the caller has named the prompt's unknown words itself.
  at::Tensor encode_text(const GenerateRequest& request, bool with_cfg,
                         text::UnknownWordWarning prompt_warning,
                         AttentionContext& attention) const;
  at::Tensor velocity(const at::Tensor& x, double timestep, const at::Tensor& text,
                      double cfg_scale, AttentionContext& attention) const;
  // Where non-finite values first appear in one step from the finite latent x: runs the step
  // again, checking every attention output, then the model output and the guidance.
  std::string locate_non_finite(const GenerateRequest& request, const at::Tensor& x, int step,
                                double timestep, const at::Tensor& text) const;
};

sageattn::PrecisionTable Pipeline::Impl::load_table(const std::string& path) const {
  std::optional<sageattn::PrecisionTable> loaded;
  try {
    loaded = sageattn::PrecisionTable::load_file(path);
    // Steps are checked per request; the model name and layers are checked now.
    loaded->validate_for(config.name, config.dit_attention_layers(), 1'000'000);
  } catch (const sageattn::TableError& e) {
    throw ConfigError(e.what());
  }
  // A variant this device cannot run fails now, naming its rule, not mid-generation.
  check_table_variants_run(*loaded, device_name, [&](sageattn::Variant variant) {
    return why_dit_cannot_run(config, dit_options, variant);
  });
  return std::move(*loaded);
}

const sageattn::PrecisionTable* Pipeline::Impl::table_for(const GenerateRequest& request,
                                                          std::string& path) const {
  if (request.table.empty() || request.table == table_path) {
    path = table_path;
    return table ? &*table : nullptr;
  }
  path = request.table;
  auto found = request_tables.find(path);
  if (found == request_tables.end()) found = request_tables.emplace(path, load_table(path)).first;
  return &found->second;
}

AttentionContext Pipeline::Impl::make_context(const GenerateRequest& request, int steps) const {
  AttentionContext attention(config.dit_attention_layers());
  if (observer) attention.set_observer(observer);
  std::string path;
  // Loaded (and checked) even under --attention, so a bad table fails the same way either way.
  const sageattn::PrecisionTable* table_of_request = table_for(request, path);
  try {
    AttentionPolicy policy = resolve_attention_policy(
        config, request.attention ? nullptr : table_of_request, path, request.attention, steps);
    // Rules that decide nothing are legal but rarely meant (table.h leaves logging to us).
    if (!request.attention && shadow_warnings_logged.emplace(path, steps).second) {
      for (const std::string& warning : policy.warnings) spdlog::warn("{}", warning);
    }
    attention.use_table(std::move(policy.table), std::move(policy.description));
  } catch (const sageattn::TableError& e) {
    throw ConfigError(e.what());
  }
  return attention;
}

at::Tensor Pipeline::Impl::encode_text(const GenerateRequest& request, bool with_cfg,
                                       text::UnknownWordWarning prompt_warning,
                                       AttentionContext& attention) const {
  attention.set_step(-1);
  // An empty prompt is the caption training dropped (caption_dropout): the model's unconditional
  // sample; with the default empty negative prompt guidance then changes nothing.
  if (request.prompt.empty()) spdlog::info("empty prompt: an unconditional sample");
  if (wan) {
    return with_cfg ? wan->prompt_embeddings({request.prompt, request.negative_prompt}, attention)
                    : wan->prompt_embeddings({request.prompt}, attention);
  }
  const auto encode = [&](const std::string& prompt, text::UnknownWordWarning warning) {
    // The tokenizer truncates (keeping <bos> and <eos>, with a warning); the padding it adds is
    // cut off again, since each prompt is encoded at its own length.
    const text::TokenizedBatch batch =
        tokenizer->encode_batch({prompt}, text_encoder->max_length, warning);
    const std::int64_t length = batch.mask[0].sum().item<std::int64_t>();
    const at::Tensor ids = batch.ids[0].slice(0, 0, length).contiguous();
    return text_encoder->encode_padded(
        std::vector<std::int64_t>(ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + length),
        attention);
  };
  at::Tensor text = encode(request.prompt, prompt_warning);
  if (with_cfg) text = at::cat({text, encode(request.negative_prompt, text::UnknownWordWarning::kWarn)});
  return text;
}

namespace {

// Points the DiT's Ulysses at `group` until the end of the scope (also when the forward throws).
class ScopedSequenceGroup {
 public:
  ScopedSequenceGroup(models::WanTransformer3DModel& dit,
                      std::shared_ptr<parallel::ProcessGroup> group,
                      std::shared_ptr<parallel::ProcessGroup> restore)
      : dit_(dit), restore_(std::move(restore)) {
    dit_.use_sequence_parallel(std::move(group));
  }
  ~ScopedSequenceGroup() { dit_.use_sequence_parallel(restore_); }
  ScopedSequenceGroup(const ScopedSequenceGroup&) = delete;
  ScopedSequenceGroup& operator=(const ScopedSequenceGroup&) = delete;

 private:
  models::WanTransformer3DModel& dit_;
  std::shared_ptr<parallel::ProcessGroup> restore_;
};

}  // namespace

at::Tensor Pipeline::Impl::dit_output(const at::Tensor& x, double timestep, const at::Tensor& text,
                                      AttentionContext& attention) const {
  const bool with_cfg = text.size(0) == 2;
  if (with_cfg && cfg_split) {
    ScopedSequenceGroup branch_ranks(*dit, cfg_split->branch_group(), sequence_group);
    const at::Tensor t = at::full({1}, timestep, x.options());
    return cfg_split->run([&](int branch) {
      return dit->forward(x, t, text.slice(0, branch, branch + 1), attention);
    });
  }
  // Cond and uncond share one batched forward: one pass over the weights instead of two.
  const at::Tensor input = with_cfg ? at::cat({x, x}) : x;
  return dit->forward(input, at::full({input.size(0)}, timestep, x.options()), text, attention);
}

std::vector<parallel::ProcessGroup*> Pipeline::Impl::communication_groups() const {
  std::vector<parallel::ProcessGroup*> groups;
  if (sequence_group) groups.push_back(sequence_group.get());
  if (cfg_split) {
    for (parallel::ProcessGroup* group : cfg_split->groups()) groups.push_back(group);
  }
  return groups;
}

at::Tensor Pipeline::Impl::velocity(const at::Tensor& x, double timestep, const at::Tensor& text,
                                    double cfg_scale, AttentionContext& attention) const {
  const bool with_cfg = text.size(0) == 2;
  const at::Tensor input = with_cfg ? at::cat({x, x}) : x;
  const at::Tensor output = dit_output(x, timestep, text, attention);
  const at::Tensor v = models::velocity_from_output(
      output, input, at::scalar_tensor(timestep / kTimestepScale, input.options()),
      config.prediction);
  if (!with_cfg) return v;
  const std::vector<at::Tensor> halves = v.chunk(2, 0);
  return guide(halves[0], halves[1], cfg_scale);
}

std::string Pipeline::Impl::locate_non_finite(const GenerateRequest& request, const at::Tensor& x,
                                              int step, double timestep,
                                              const at::Tensor& text) const {
  if (!all_finite(x)) return "in the latent before the step";
  if (!all_finite(text)) return "in the text encoder's output";
  AttentionContext attention = make_context(request, request.steps);
  std::optional<std::string> first;
  attention.set_observer([&](const AttentionCall& call) {
    if (observer) observer(call);
    if (!first && !all_finite(call.out)) {
      first = describe_layer(call.layer, config.dit_attention_layers(), call.variant);
    }
  });
  attention.set_step(step);
  const bool with_cfg = text.size(0) == 2;
  const at::Tensor output = dit_output(x, timestep, text, attention);
  if (first) return "first at " + *first;
  if (!all_finite(output)) return "in the model's output, after finite attention outputs";
  if (with_cfg) {
    return fmt::format("in classifier-free guidance (cfg-scale {:g}) of a finite model output",
                       request.cfg_scale);
  }
  return "in the sampler update of a finite model output";
}

std::int64_t Pipeline::Impl::load_built_in_model(const at::TensorOptions& options) {
  models::TextToVideoModel model = models::build_text_to_video_model(config, options);
  tokenizer = std::move(model.tokenizer);
  text_encoder = model.text_encoder;
  dit = model.dit;
  std::map<std::string, at::Tensor>& parameters = model.parameters;
  if (config.random_weights) {
    spdlog::warn("model {}: random weights (seed {}): output is noise", config.name,
                 config.random_seed);
    models::init_random(parameters, config.random_seed);
  } else {
    models::load_weights(parameters, config.weights);
    check_weights_finite(parameters, config.weights);
  }
  std::int64_t count = 0;
  for (const auto& entry : parameters) count += entry.second.numel();
  return count;
}

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;

std::unique_ptr<Pipeline> Pipeline::load(const LoadOptions& load_options) {
  c10::InferenceMode inference;
  auto impl = std::make_unique<Impl>();
  const bool diffusers_folder = diffusers::is_diffusers_folder(load_options.model);
  impl->config = model_config_of(load_options.model);
  if (diffusers_folder && !load_options.weights.empty()) {
    throw ConfigError({{"weights", load_options.weights}},
                      fmt::format("the diffusers folder {} holds its own weights",
                                  load_options.model));
  }
  ModelConfig& config = impl->config;
  if (!diffusers_folder && !load_options.weights.empty()) {
    config.weights = load_options.weights;
    config.random_weights = load_options.weights == "random";
    if (config.random_weights) config.weights.clear();
  }
  impl->device = choose_device(load_options.device);
  impl->device_name = impl->device.str();
  const at::TensorOptions options =
      at::TensorOptions().device(impl->device).dtype(compute_dtype(config, impl->device));
  check_model_fits(config, element_size(config, impl->device), device_memory_bytes(impl->device),
                   impl->device_name);

  const StageMeter load_meter(impl->device, "loading");
  std::int64_t count = 0;
  if (diffusers_folder) {
    impl->wan = diffusers::WanTextToVideo::load(load_options.model, impl->device,
                                                options.dtype().toScalarType());
    impl->dit = impl->wan->transformer_ptr();
    count = impl->wan->loaded_parameters();
  } else {
    count = impl->load_built_in_model(options);
  }

  impl->load_stage = load_meter.finish();
  impl->dit_options = options;
  const std::string table_path = load_options.table.empty() ? config.table : load_options.table;
  if (!table_path.empty()) {
    impl->table = impl->load_table(table_path);
    impl->table_path = table_path;
  }
  spdlog::info("model {} ({:.1f}M parameters) on {} in {}, table {}", config.name, count / 1e6,
               impl->device_name, c10::toString(options.dtype().toScalarType()),
               impl->table_path.empty() ? "none" : impl->table_path);
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

GenerateResult Pipeline::generate(const GenerateRequest& request, const ProgressFn& progress) {
  c10::InferenceMode inference;
  const ModelConfig& config = impl_->config;
  const SampleGrid grid = check_request(request, config);
  if (config.space != ModelSpace::kPixel && !impl_->wan) {
    throw ConfigError(fmt::format(
        "{}: model {} denoises VAE latents and sagegen has no VAE decoder; it runs only "
        "through bench-pipeline (Pipeline::time_denoise_step)",
        config.source_path, config.name));
  }
  check_request_fits(request, config, element_size(config, impl_->device),
                     device_memory_bytes(impl_->device), impl_->device_name);
  GenerateResult result;
  result.unknown_words = unknown_words(request.prompt);
  if (request.strict_prompt && !result.unknown_words.empty()) {
    throw RequestError(
        {{"strict_prompt", ""}},
        fmt::format("{} word{} of the prompt the model {} has no embedding for: {}",
                    result.unknown_words.size(), result.unknown_words.size() == 1 ? "" : "s",
                    config.name, text::quote_words(result.unknown_words)));
  }
  // One warning per prompt (issue 13): the words read as <unk>, then those of the other words
  // no caption of the model's training uses. The tokenizer stays silent about this prompt.
  std::string warning;
  if (!result.unknown_words.empty()) {
    warning = fmt::format("{} word{} of the prompt not in the vocabulary ({}), read as <unk>: {}",
                          result.unknown_words.size(), result.unknown_words.size() == 1 ? "" : "s",
                          impl_->tokenizer->source(), text::quote_words(result.unknown_words));
  }
  if (!config.captions.empty()) {
    result.words_outside_captions = eval::words_outside_captions(request.prompt);
    std::vector<std::string> known_but_uncaptioned;
    for (const auto& word : result.words_outside_captions) {
      if (std::find(result.unknown_words.begin(), result.unknown_words.end(), word) ==
          result.unknown_words.end()) {
        known_but_uncaptioned.push_back(word);
      }
    }
    const std::size_t n = known_but_uncaptioned.size();
    if (n > 0) {
      const std::string message = fmt::format(
          "{} word{} of the prompt in no caption the model {} was trained on ({}): {}", n,
          n == 1 ? "" : "s", config.name, config.captions, text::quote_words(known_but_uncaptioned));
      if (request.strict_prompt) throw RequestError({{"strict_prompt", ""}}, message);
      warning += (warning.empty() ? "" : "; ") + message;
    }
  }
  if (!warning.empty()) spdlog::warn("prompt: {}", warning);
  const auto start = Clock::now();
  AttentionContext attention = impl_->make_context(request, request.steps);
  const bool with_cfg = request.cfg_scale != 1.0;
  std::string stage = "text encoding";
  try {
    if (impl_->wan) {
      generate_wan_video(*impl_->wan, request, impl_->device, attention, progress, result,
                         stage);
    } else {
      // The prompt's unknown words are in the one warning above.
      const StageMeter text_meter(impl_->device, "text encoding");
      const at::Tensor text =
          impl_->encode_text(request, with_cfg, text::UnknownWordWarning::kSilent, attention);
      result.stages.push_back(text_meter.finish());
      const StageMeter denoise_meter(impl_->device, "denoising");
      const FlowMatchEulerScheduler scheduler(request.steps, request.shift);
      at::Tensor x =  // [1, C, F, H, W] float32
          initial_noise({1, config.dit.in_channels, grid.frames, grid.height, grid.width},
                        request.seed, impl_->device);
      for (int step = 0; step < request.steps; ++step) {
        stage = fmt::format("step {} of {}", step + 1, request.steps);
        const auto step_start = Clock::now();
        attention.set_step(step);
        const at::Tensor v =
            impl_->velocity(x, scheduler.timestep(step), text, request.cfg_scale, attention);
        at::Tensor next = scheduler.step(x, v, step);
        // One reduction per step (a sync on CUDA); NaN/Inf must never become an image.
        if (!all_finite(next)) {
          throw RunError(fmt::format(
              "non-finite values (NaN/Inf) in the latent at step {} of {}: {}", step + 1,
              request.steps,
              impl_->locate_non_finite(request, x, step, scheduler.timestep(step), text)));
        }
        x = std::move(next);
        synchronize(impl_->device);
        result.step_seconds.push_back(seconds_since(step_start));
        if (progress) progress(StepProgress{step + 1, request.steps, seconds_since(start)});
      }
      result.stages.push_back(denoise_meter.finish());
      stage = "decoding";
      const StageMeter decode_meter(impl_->device, "decoding");
      // [-1, 1] pixels -> uint8 [F, H, W, 3]
      const at::Tensor pixels = x[0].permute({1, 2, 3, 0}).clamp(-1.0, 1.0);
      result.video = ((pixels + 1.0) * 127.5).round().to(at::kByte).to(at::kCPU).contiguous();
      result.stages.push_back(decode_meter.finish());
    }
  } catch (const c10::Error& e) {
    if (!is_out_of_memory(e)) throw;
    throw RunError(fmt::format("out of memory in {} ({}x{}x{} on {}): {}", stage, request.width,
                               request.height, request.frames, impl_->device_name,
                               first_line(e.what_without_backtrace())));
  }
  result.seconds_total = seconds_since(start);
  result.load = impl_->load_stage;
  double sum = 0;
  for (double s : result.step_seconds) sum += s;
  result.seconds_per_step = sum / request.steps;
  result.attention_calls = attention.call_counts();
  result.device = impl_->device_name;
  result.model_name = config.name;
  if (!request.attention) impl_->table_for(request, result.table_path);
  if (request.attention) result.attention_override = std::string(sageattn::to_string(*request.attention));
  result.random_weights = config.random_weights;
  result.seed = request.seed;
  result.width = request.width;
  result.height = request.height;
  result.frames = request.frames;
  result.steps = request.steps;
  attention.log_summary();
  spdlog::info("generated {}x{}x{} in {:.2f} s ({:.3f} s/step) on {}", request.width,
               request.height, request.frames, result.seconds_total, result.seconds_per_step,
               result.device);
  return result;
}

DenoiseStepTiming Pipeline::time_denoise_step(const GenerateRequest& request, int warmup,
                                              int repeats) {
  TORCH_CHECK(warmup >= 0 && repeats >= 1, "time_denoise_step: warmup must be >= 0 and repeats "
              ">= 1, got ", warmup, " and ", repeats);
  c10::InferenceMode inference;
  const ModelConfig& config = impl_->config;
  const SampleGrid grid = check_request(request, config);
  check_request_fits(request, config, element_size(config, impl_->device),
                     device_memory_bytes(impl_->device), impl_->device_name);
  const bool with_cfg = request.cfg_scale != 1.0;
  // Every step of the table sees the same shapes; time the middle one's precision choices.
  const int step = request.steps / 2;
  AttentionContext attention = impl_->make_context(request, request.steps);
  const at::Tensor text =
      impl_->encode_text(request, with_cfg, text::UnknownWordWarning::kWarn, attention);
  const at::Tensor x = initial_noise(
      {1, config.dit.in_channels, grid.frames, grid.height, grid.width}, request.seed,
      impl_->device);
  const FlowMatchEulerScheduler scheduler(request.steps, request.shift);
  attention.set_step(step);

  const auto run = [&](int times) {
    synchronize(impl_->device);
    const auto start = Clock::now();
    for (int i = 0; i < times; ++i) {
      impl_->velocity(x, scheduler.timestep(step), text, request.cfg_scale, attention);
    }
    synchronize(impl_->device);
    return seconds_since(start) / std::max(times, 1);
  };
  run(warmup);
  attention.reset_counts();
  DenoiseStepTiming timing;
  timing.seconds_per_step = run(repeats);
  for (const auto& [name, count] : attention.call_counts()) {
    timing.attention_calls[name] = count / repeats;
  }
  attention.set_timing(true);
  attention.reset_counts();
  const std::vector<parallel::ProcessGroup*> groups = impl_->communication_groups();
  for (parallel::ProcessGroup* group : groups) {
    group->set_timing(true);
    group->reset_counters();
  }
  timing.synced_seconds_per_step = run(repeats);
  timing.attention_seconds_per_step = attention.attention_seconds() / repeats;
  if (impl_->sequence_group) {
    timing.ranks = impl_->sequence_group->size();
    timing.cfg_parallel = with_cfg && impl_->cfg_split != nullptr;
  }
  for (parallel::ProcessGroup* group : groups) {
    timing.communication_seconds_per_step += group->communication_seconds() / repeats;
    timing.communication_bytes_per_step += group->communication_bytes() / repeats;
    group->set_timing(false);
  }
  const Extent3& p = config.dit.patch;
  timing.video_tokens = static_cast<std::int64_t>(grid.frames / p.t) * (grid.height / p.h) *
                        (grid.width / p.w);
  timing.text_tokens = config.dit.text_length;
  timing.batch = with_cfg ? 2 : 1;
  timing.device = impl_->device_name;
  return timing;
}

void Pipeline::use_sequence_parallel(std::shared_ptr<parallel::ProcessGroup> group) {
  impl_->cfg_split.reset();
  if (group) {
    impl_->cfg_split =
        parallel::CfgParallel::create(*group, parallel::cfg_parallel_mode_from_env());
  }
  impl_->sequence_group = group;
  impl_->dit->use_sequence_parallel(std::move(group));
}

void Pipeline::set_attention_observer(AttentionObserver observer) {
  impl_->observer = std::move(observer);
}

ModelConfig model_config_of(const std::string& model) {
  return diffusers::is_diffusers_folder(model)
             ? diffusers::wan_folder_model_config(diffusers::read_diffusers_folder(model))
             : load_model_config(resolve_model_config(model));
}

void check_fits_before_load(const LoadOptions& options, const GenerateRequest& request) {
  const ModelConfig config = model_config_of(options.model);
  const at::Device device = choose_device(options.device);
  const std::uint64_t memory = device_memory_bytes(device);
  check_model_fits(config, element_size(config, device), memory, device.str());
  check_request_fits(request, config, element_size(config, device), memory, device.str());
}

std::vector<std::string> Pipeline::unknown_words(const std::string& prompt) const {
  // umT5's sentencepiece vocabulary spells any word (unknown characters become <unk>).
  if (!impl_->tokenizer) return {};
  return impl_->tokenizer->unknown_words(prompt);
}

const std::string& Pipeline::model_name() const { return impl_->config.name; }
const std::string& Pipeline::model_config_path() const { return impl_->config.source_path; }
const std::string& Pipeline::weights_path() const { return impl_->config.weights; }
const std::string& Pipeline::table_path() const { return impl_->table_path; }
int Pipeline::attention_layers() const { return impl_->config.dit_attention_layers(); }
const std::vector<sageattn::TableRule>& Pipeline::model_precision_rules() const {
  return impl_->config.precision_rules;
}
const std::string& Pipeline::device_name() const { return impl_->device_name; }
bool Pipeline::random_weights() const { return impl_->config.random_weights; }
std::string Pipeline::why_variant_unsupported(sageattn::Variant variant) const {
  const at::TensorOptions options =
      at::TensorOptions().device(impl_->device).dtype(compute_dtype(impl_->config, impl_->device));
  return why_dit_cannot_run(impl_->config, options, variant);
}
int Pipeline::patch_height() const {
  return impl_->config.dit.patch.h * impl_->config.latent_scale.h;
}
int Pipeline::patch_width() const {
  return impl_->config.dit.patch.w * impl_->config.latent_scale.w;
}

}  // namespace sagegen
