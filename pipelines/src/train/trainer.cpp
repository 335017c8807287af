#include "sagegen/train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>

#include "autocast_scope.h"
#include "checkpoint_names.h"
#include "sagegen/attention_context.h"
#include "sagegen/errors.h"
#include "sagegen/models/text_encoder.h"
#include "sagegen/models/prediction.h"
#include "sagegen/models/text_to_video_model.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/models/weights.h"
#include "sagegen/scheduler.h"
#include "sagegen/text/tokenizer.h"
#include "sagegen/train/schedule.h"
#include "seeded_generator.h"
#include "seeds.h"
#include "step_graphs.h"
#include "step_scalars.h"

namespace sagegen::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
// Steps timed before a time limit fits the step count (enough to average out the first steps'
// allocator and kernel-selection warm-up).
constexpr std::int64_t kStepsBeforeFit = 20;
// Eager steps of each batch shape before its CUDA graph is captured: cuBLAS workspaces, cuDNN
// plans, the RoPE tables and the caching allocator settle in the first one; PyTorch's recipe
// for whole-step capture runs three.
constexpr int kEagerStepsBeforeCapture = 3;

// A step's device inputs: everything in it that changes from step to step, so a captured step
// reads each step's values from the same tensors. Caption dropout is already applied to the ids.
struct StepInputs {
  at::Tensor pixels;   // as the batch has them: uint8 [B, F, H, W, 3] or float [B, 3, F, H, W]
  at::Tensor ids;      // [B, text_length] int64: each caption's tokens, then <pad>
  at::Tensor lengths;  // [B] int64: tokens of each caption
  at::Tensor noise;    // x0's shape [B, 3, F, H, W], float32, N(0, 1)
  at::Tensor logits;   // [B] float32, N(0, 1): t = sigmoid(mean + std * logits)
};

// The batch's shape: what makes a step need a graph of its own.
std::string shape_key(const TrainingBatch& batch) {
  std::string key;
  for (const std::int64_t size : batch.pixels.sizes()) key += std::to_string(size) + "x";
  key.pop_back();
  return key + " " + std::string(c10::toString(batch.pixels.scalar_type()));
}

}  // namespace

struct Trainer::Impl {
  TrainConfig config;
  ModelConfig model;
  at::Device device{at::kCPU};
  bool autocast = false;
  std::optional<text::WordTokenizer> tokenizer;
  std::shared_ptr<models::TextEncoder> text_encoder;
  std::shared_ptr<models::WanTransformer3DModel> dit;
  AttentionContext attention{1, sageattn::Variant::kFp16};
  std::vector<std::string> names;  // sorted: the checkpoint's order
  std::vector<at::Tensor> params, ema, exp_avg, exp_avg_sq;
  // AdamW's two parameter groups (weight decay on matrices only: not on norms, biases and
  // embedding tables), each with its moments, for the fused multi-tensor update.
  struct AdamGroup {
    std::vector<at::Tensor> params, exp_avg, exp_avg_sq, steps;
    std::vector<std::size_t> index;  // into params
    double weight_decay = 0;
  };
  std::vector<AdamGroup> adam_groups;
  std::int64_t adam_steps_at = -1;  // the step count the groups' `steps` tensors hold
  std::unique_ptr<StepScalars> scalars;  // this step's lr and EMA weight, on the device
  at::Tensor empty_caption_ids;          // [text_length] int64: <bos> <eos> <pad>...
  std::int64_t empty_caption_length = 0;
  // CUDA graphs (config.cuda_graphs on CUDA): one per batch shape, with its static inputs.
  std::unique_ptr<StepGraphs> graphs;
  std::map<std::string, StepInputs> graph_inputs;
  std::int64_t step = 0;
  // First step of the learning-rate schedule: 0, or the resumed step under `schedule: per-run`.
  std::int64_t schedule_start = 0;
  at::Tensor last_grad_norm;
  PhaseFn on_phase;  // the benchmark's timer; empty in training
  void mark(const char* phase) const {
    if (on_phase) on_phase(phase);
  }
  // The phases inside a step: a graph runs them as one (and a capture cannot synchronise).
  void mark_inside_step(const char* phase) const {
    if (!graphs) mark(phase);
  }

  double lr_at(std::int64_t at_step) const {
    return learning_rate_at(at_step - schedule_start, config.lr, config.warmup_steps,
                            std::max<std::int64_t>(config.steps - schedule_start, 1),
                            config.min_lr_ratio);
  }

  void build();
  void copy_from_host(at::Tensor& target, const at::Tensor& cpu) const;
  std::pair<at::Tensor, at::Tensor> caption_tokens(const TrainingBatch& batch,
                                                   std::int64_t dropout_index) const;
  StepInputs allocate_inputs(const TrainingBatch& batch) const;
  void fill_inputs(StepInputs& in, const TrainingBatch& batch, std::uint64_t seed,
                   std::int64_t dropout_index);
  void sync_adam_steps();
  at::Tensor flow_matching_loss(const StepInputs& in, bool capturing);
  StepOutputs run_step(const StepInputs& in, bool capturing);
  at::Tensor optimizer_step();
};


void Trainer::Impl::build() {
  if (model.space != ModelSpace::kPixel) {
    throw ConfigError(fmt::format("{}: model {} denoises VAE latents; the trainer trains pixel-space "
                                  "models only", model.source_path, model.name));
  }
  if (device.is_cuda()) {
    if (model.cuda_dtype == ComputeDType::kFloat16) {
      throw ConfigError(fmt::format("{}: cuda_dtype fp16: training in fp16 needs loss scaling, "
                                    "which the trainer does not implement; use bf16 or fp32",
                                    model.source_path));
    }
    autocast = model.cuda_dtype == ComputeDType::kBFloat16;
  }
  const at::TensorOptions options = at::TensorOptions().device(device).dtype(at::kFloat);
  models::TextToVideoModel built = models::build_text_to_video_model(model, options);
  tokenizer = std::move(built.tokenizer);
  text_encoder = built.text_encoder;
  dit = built.dit;
  std::map<std::string, at::Tensor>& named = built.parameters;
  if (config.init_weights.empty()) {
    models::init_random(named, model.random_seed);
  } else {
    try {
      models::load_weights(named, config.init_weights);
    } catch (const ConfigError& e) {
      // The weights' own message names the file; say which key of which config asked for it.
      throw ConfigError(fmt::format("{}: init_weights: {}", config.source_path, e.what()));
    }
  }
  at::NoGradGuard no_grad;
  adam_groups.resize(2);
  adam_groups[0].weight_decay = config.weight_decay;
  for (auto& [name, param] : named) {
    param.requires_grad_(true);
    names.push_back(name);
    params.push_back(param);
    ema.push_back(param.detach().clone());
    exp_avg.push_back(at::zeros_like(param));
    exp_avg_sq.push_back(at::zeros_like(param));
    const bool decays = param.dim() >= 2 && name.find("embedding") == std::string::npos;
    AdamGroup& group = adam_groups[decays ? 0 : 1];
    group.params.push_back(param);
    group.exp_avg.push_back(exp_avg.back());
    group.exp_avg_sq.push_back(exp_avg_sq.back());
    group.index.push_back(params.size() - 1);
  }
  scalars = std::make_unique<StepScalars>(params);
  const text::TokenizedBatch empty =
      tokenizer->encode_batch({std::string()}, text_encoder->max_length);
  empty_caption_ids = empty.ids[0].clone();
  empty_caption_length = empty.mask.sum().item<std::int64_t>();
  // Full precision attention: torch SDPA, differentiable; the quantized kernels are forward-only.
  attention = AttentionContext(model.dit_attention_layers(), sageattn::Variant::kFp16);
  attention.use_override(sageattn::Variant::kFp16);
}

void Trainer::Impl::copy_from_host(at::Tensor& target, const at::Tensor& cpu) const {
  if (!device.is_cuda()) {
    target.copy_(cpu);
    return;
  }
  // A copy from pageable memory waits for the stream to drain (CUDA stages it); from pinned
  // memory it is queued like a kernel and the host runs on. The caching host allocator keeps the
  // pinned block until the copy is done.
  const at::Tensor pinned = cpu.is_pinned() ? cpu : cpu.pin_memory();
  target.copy_(pinned, /*non_blocking=*/true);
}

BatchPreparer Trainer::batch_preparer() const {
  const text::WordTokenizer* tokenizer = &*impl_->tokenizer;
  const std::int64_t max_length = impl_->text_encoder->max_length;
  const bool pin = impl_->device.is_cuda();
  return [tokenizer, max_length, pin](TrainingBatch& batch) {
    at::NoGradGuard no_grad;
    const text::TokenizedBatch tokens = tokenizer->encode_batch(batch.captions, max_length);
    batch.token_ids = tokens.ids;
    batch.token_lengths = tokens.mask.sum(1).to(at::kLong);
    if (pin) {
      batch.pixels = batch.pixels.pin_memory();
      batch.token_ids = batch.token_ids.pin_memory();
      batch.token_lengths = batch.token_lengths.pin_memory();
    }
  };
}

std::pair<at::Tensor, at::Tensor> Trainer::Impl::caption_tokens(const TrainingBatch& batch,
                                                                std::int64_t dropout_index) const {
  const std::int64_t max_length = text_encoder->max_length;
  at::Tensor ids = batch.token_ids, lengths = batch.token_lengths;
  if (!ids.defined()) {
    const text::TokenizedBatch tokens = tokenizer->encode_batch(batch.captions, max_length);
    ids = tokens.ids;
    lengths = tokens.mask.sum(1).to(at::kLong);
  }
  const std::int64_t b = ids.size(0);
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) == max_length && lengths.numel() == b,
              "training batch: token ids must be [B, ", max_length, "] with B lengths, got ",
              ids.sizes(), " and ", lengths.sizes());
  if (dropout_index < 0 || config.caption_dropout <= 0) return {ids, lengths};
  // Caption dropout: a dropped caption is the empty prompt, <bos> <eos>, what the pipeline
  // encodes for the negative prompt. Decided on the host from (seed, step, sample).
  bool copied = false;
  for (std::int64_t i = 0; i < b; ++i) {
    const std::uint64_t bits = derive_seed(config.seed, SeedStream::kCaptionDropout,
                                           static_cast<std::uint64_t>(dropout_index) * 65536u + i);
    if (unit_interval(bits) >= config.caption_dropout) continue;
    if (!copied) {  // the batch's own tensors stay as the data threads made them
      ids = ids.clone();
      lengths = lengths.clone();
      copied = true;
    }
    ids[i].copy_(empty_caption_ids);
    lengths.data_ptr<std::int64_t>()[i] = empty_caption_length;
  }
  return {ids, lengths};
}

StepInputs Trainer::Impl::allocate_inputs(const TrainingBatch& batch) const {
  const at::Tensor& pixels = batch.pixels;
  TORCH_CHECK(pixels.dim() == 5, "training batch: pixels must be 5-D, got ", pixels.sizes());
  const std::int64_t b = pixels.size(0);
  TORCH_CHECK(b == static_cast<std::int64_t>(batch.captions.size()), "training batch: ", b,
              " samples but ", batch.captions.size(), " captions");
  const at::TensorOptions on_device = at::TensorOptions().device(device);
  // The world's uint8 [B, F, H, W, 3] becomes x0 [B, 3, F, H, W].
  const std::vector<std::int64_t> x0_sizes =
      pixels.scalar_type() == at::kByte
          ? std::vector<std::int64_t>{b, pixels.size(4), pixels.size(1), pixels.size(2),
                                      pixels.size(3)}
          : pixels.sizes().vec();
  StepInputs in;
  in.pixels = at::empty(pixels.sizes(), on_device.dtype(pixels.scalar_type()));
  in.ids = at::empty({b, text_encoder->max_length}, on_device.dtype(at::kLong));
  in.lengths = at::empty({b}, on_device.dtype(at::kLong));
  in.noise = at::empty(x0_sizes, on_device.dtype(at::kFloat));
  in.logits = at::empty({b}, on_device.dtype(at::kFloat));
  return in;
}

void Trainer::Impl::fill_inputs(StepInputs& in, const TrainingBatch& batch, std::uint64_t seed,
                                std::int64_t dropout_index) {
  at::NoGradGuard no_grad;
  copy_from_host(in.pixels, batch.pixels);
  const auto [ids, lengths] = caption_tokens(batch, dropout_index);
  copy_from_host(in.ids, ids);
  copy_from_host(in.lengths, lengths);
  // The same draws as at::randn(shape, gen) into fresh tensors: noise first, then the logits.
  at::Generator gen = seeded_generator(device, seed);
  in.noise.normal_(0.0, 1.0, gen);
  in.logits.normal_(0.0, 1.0, gen);
  // The kind's timestep shift (SD3's t -> s t / (1 + (s - 1) t)) moves the draw, eagerly, so a
  // CUDA graph's formula for t is the same for every kind.
  if (batch.timestep_shift != 1.0) {
    in.logits.add_(timestep_logit_offset(batch.timestep_shift, config.logit_normal_std));
  }
}

void Trainer::Impl::sync_adam_steps() {
  // AdamW's step count lives in tensors (a float per parameter, read by the fused kernel, never
  // by the host; a graph increments them itself). They are refilled in place (a graph holds
  // their addresses) only when the trainer's step moved another way: start, resume.
  if (adam_steps_at == step) return;
  at::NoGradGuard no_grad;
  for (AdamGroup& group : adam_groups) {
    if (group.steps.empty()) {
      for (const auto& p : group.params) {
        group.steps.push_back(at::full({}, static_cast<double>(step), p.options()));
      }
    } else {
      for (auto& s : group.steps) s.fill_(static_cast<double>(step));
    }
  }
  adam_steps_at = step;
}

at::Tensor Trainer::Impl::flow_matching_loss(const StepInputs& in, bool capturing) {
  // [B, 3, F, H, W] float in [-1, 1]; the world's uint8 [B, F, H, W, 3] is converted here, on
  // the device (the same values as converting on the CPU: k / 127.5 - 1 in fp32).
  const at::Tensor x0 =
      in.pixels.scalar_type() == at::kByte
          ? in.pixels.permute({0, 4, 1, 2, 3}).to(at::kFloat).div_(127.5).sub_(1.0).contiguous()
          : in.pixels.to(at::kFloat);
  const std::int64_t b = x0.size(0);
  const at::Tensor t = at::sigmoid(in.logits * config.logit_normal_std + config.logit_normal_mean);
  const at::Tensor t5 = t.view({b, 1, 1, 1, 1});
  const at::Tensor x_t = (1.0 - t5) * x0 + t5 * in.noise;
  const at::Tensor target = in.noise - x0;

  AutocastScope autocast_scope(autocast, /*cache=*/!capturing);
  // Every caption is encoded at its own length, as the pipeline encodes a prompt: one pass over
  // the batch at the fixed text_length with each row's keys masked to its own tokens, the
  // positions past them zero (TextEncoder::forward_lengths): what encoding each caption alone
  // and zero-padding it to text_length gives, at one shape for every step.
  const at::Tensor text = text_encoder->forward_lengths(in.ids, in.lengths, attention);
  mark_inside_step("text encoder");
  const at::Tensor output = dit->forward(x_t, t * kTimestepScale, text, attention).to(at::kFloat);
  const at::Tensor velocity = models::velocity_from_output(output, x_t, t5, model.prediction);
  return at::mse_loss(velocity, target);
}

StepOutputs Trainer::Impl::run_step(const StepInputs& in, bool capturing) {
  const at::Tensor loss = flow_matching_loss(in, capturing);
  mark_inside_step("DiT forward, loss");
  loss.backward();
  mark_inside_step("backward");
  const at::Tensor grad_norm = optimizer_step();
  mark_inside_step("clip, AdamW, EMA");
  return StepOutputs{loss.detach(), grad_norm};
}

at::Tensor Trainer::Impl::optimizer_step() {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  grads.reserve(params.size());
  for (const auto& p : params) grads.push_back(p.grad().defined() ? p.grad() : at::zeros_like(p));

  const std::vector<at::Tensor> norms = at::_foreach_norm(grads);
  const at::Tensor grad_norm = at::stack(norms).norm();
  if (config.grad_clip > 0) {
    // No host sync: the coefficient stays on the device.
    const at::Tensor coefficient = (config.grad_clip / (grad_norm + 1e-6)).clamp_max(1.0);
    at::_foreach_mul_(grads, coefficient);
  }

  // AdamW (decoupled weight decay), bias-corrected, as torch.optim.AdamW(fused=True): one
  // multi-tensor kernel per parameter group does the decay, both moments and the update, with
  // the learning rate read from the device (scalars->lr()) and the step count from its tensors.
  for (AdamGroup& group : adam_groups) {
    if (group.params.empty()) continue;
    std::vector<at::Tensor> group_grads;
    group_grads.reserve(group.index.size());
    for (const std::size_t i : group.index) group_grads.push_back(grads[i]);
    at::_foreach_add_(group.steps, 1.0);
    at::_fused_adamw_(group.params, group_grads, group.exp_avg, group.exp_avg_sq,
                      /*max_exp_avg_sqs=*/{}, group.steps, scalars->lr(), config.beta1,
                      config.beta2, group.weight_decay, config.adam_eps, /*amsgrad=*/false,
                      /*maximize=*/false);
  }

  // ema = lerp(ema, w, 1 - decay), the weight read from the device (ema_update's formula).
  at::_foreach_lerp_(ema, params, scalars->ema_weights());
  for (auto& p : params) p.mutable_grad() = at::Tensor();
  return grad_norm;
}

Trainer::Trainer(TrainConfig config, const at::Device& device)
    : Trainer(config, load_model_config(config.model), device) {}

Trainer::Trainer(TrainConfig config, ModelConfig model, const at::Device& device)
    : impl_(std::make_unique<Impl>()) {
  validate_train_config(config);
  impl_->config = std::move(config);
  impl_->model = std::move(model);
  impl_->device = device;
  impl_->build();
  if (device.is_cuda() && impl_->config.cuda_graphs) {
    impl_->graphs = std::make_unique<StepGraphs>(device, kEagerStepsBeforeCapture);
  }
  std::int64_t count = 0;
  for (const auto& p : impl_->params) count += p.numel();
  spdlog::info("train: model {} ({:.2f}M parameters) on {}, {}, {}", impl_->model.name,
               count / 1e6, device.str(), impl_->autocast ? "bf16 autocast" : "fp32",
               step_mode());
}

Trainer::~Trainer() = default;

at::Tensor Trainer::train_step(const TrainingBatch& batch) {
  Impl& m = *impl_;
  const TrainConfig& c = m.config;
  // Eagerly, before the step: its inputs, lr and EMA weight into device tensors.
  StepInputs fresh;
  StepInputs* in = &fresh;
  const std::string shape = m.graphs ? shape_key(batch) : std::string();
  if (m.graphs) {
    auto it = m.graph_inputs.find(shape);
    if (it == m.graph_inputs.end()) {
      it = m.graph_inputs.emplace(shape, m.allocate_inputs(batch)).first;
    }
    in = &it->second;
  } else {
    fresh = m.allocate_inputs(batch);
  }
  const std::uint64_t noise_seed =
      derive_seed(c.seed, SeedStream::kNoise, static_cast<std::uint64_t>(m.step));
  m.fill_inputs(*in, batch, noise_seed, m.step);
  m.scalars->set(m.lr_at(m.step), 1.0 - ema_decay_at(m.step, c.ema_decay));
  m.sync_adam_steps();
  m.mark("batch to device, noise");
  StepOutputs out;
  if (m.graphs) {
    out = m.graphs->run(shape, [&m, in](bool capturing) { return m.run_step(*in, capturing); });
    m.mark("graph: text encoder, DiT, backward, clip, AdamW, EMA");
  } else {
    out = m.run_step(*in, /*capturing=*/false);
  }
  m.last_grad_norm = out.grad_norm;
  m.adam_steps_at = m.step + 1;
  ++m.step;
  // A graph's loss tensor is overwritten by its next replay; the caller gets this step's.
  return m.graphs ? out.loss.clone() : out.loss;
}

double Trainer::evaluate_loss(const TrainingBatch& batch, std::uint64_t seed) {
  at::NoGradGuard no_grad;
  Impl& m = *impl_;
  StepInputs in = m.allocate_inputs(batch);
  m.fill_inputs(in, batch, seed, /*dropout_index=*/-1);
  return m.flow_matching_loss(in, /*capturing=*/false).item<double>();
}

std::string Trainer::step_mode() const {
  if (!impl_->graphs) return "eager";
  return fmt::format("CUDA graphs ({} captured)", impl_->graphs->captured());
}

int Trainer::graphs_captured() const { return impl_->graphs ? impl_->graphs->captured() : 0; }

void Trainer::run(TrainingData& data, const fs::path& out_dir, const TrainProgressFn& progress) {
  Impl& m = *impl_;
  TrainConfig& c = m.config;  // a time limit may shorten c.steps
  if (c.schedule == ScheduleKind::kPerRun) {
    // This run is a schedule of its own: `steps` more steps from here, warm-up included.
    m.schedule_start = m.step;
    c.steps = m.step + c.steps;
    spdlog::info("train: per-run schedule: steps {} to {} (warm-up {})", m.step, c.steps,
                 c.warmup_steps);
  }
  const std::int64_t configured_steps = c.steps;
  fs::create_directories(out_dir);
  const fs::path log_path = out_dir / "loss.csv";
  const bool new_log = !fs::exists(log_path);
  std::ofstream log(log_path, std::ios::app);
  if (!log) throw ConfigError(fmt::format("{}: cannot open the loss log for writing", log_path.string()));
  if (new_log) log << "step,loss,lr,grad_norm,samples_per_second,seconds\n";

  const auto start = Clock::now();
  auto report_start = start;
  at::Tensor loss_sum;
  std::int64_t losses = 0, samples = 0;
  const std::int64_t first_step = m.step;
  // The time limit fits the step count twice: after kStepsBeforeFit steps (from the mean step
  // time so far, warm-up included: it errs on the short side) and again at a quarter of the
  // budget or when the first fit's steps run out, whichever comes first (from the steps since
  // the first fit: a mix of image and video batches has a noisy mean over 20 steps). Each fit
  // keeps the cosine schedule ending inside the budget.
  int fits = 0;
  double fit_elapsed = 0;
  std::int64_t fit_step = 0;
  double data_wait_seconds = 0;
  while (m.step < c.steps) {
    const auto asked = Clock::now();
    const TrainingBatch batch = data.batch_for_step(m.step);
    data_wait_seconds += std::chrono::duration<double>(Clock::now() - asked).count();
    const at::Tensor loss = train_step(batch);
    loss_sum = loss_sum.defined() ? loss_sum + loss : loss;
    ++losses;
    samples += batch.pixels.size(0);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const bool first_fit = fits == 0 && m.step - first_step >= kStepsBeforeFit;
    // The second fit also runs when the first fit's steps are about to run out early: on the
    // H200 the first 20 steps (kernel autotuning, 1.2 s each against ~0.2 s later) made the
    // first fit plan 335 steps for a 390 s budget, and the run ended at 94 s.
    const bool second_fit = fits == 1 && m.step - fit_step >= kStepsBeforeFit &&
                            (elapsed >= 0.25 * c.time_limit_seconds || m.step + 1 >= c.steps);
    if (c.time_limit_seconds > 0 && (first_fit || second_fit)) {
      ++fits;
      const double per_step = (elapsed - fit_elapsed) / static_cast<double>(m.step - (first_fit ? first_step : fit_step));
      fit_elapsed = elapsed;
      fit_step = m.step;
      const auto fit = m.step + static_cast<std::int64_t>((c.time_limit_seconds - elapsed) / per_step);
      const std::int64_t steps = std::max(std::min(fit, configured_steps), m.step);
      if (steps != c.steps) {
        spdlog::info("train: {:.1f} ms a step; {} of {} steps fit the {:.0f} s time limit",
                     per_step * 1e3, steps, configured_steps, c.time_limit_seconds);
        c.steps = steps;
        c.warmup_steps = std::min(
            c.warmup_steps, std::max<std::int64_t>(c.steps - m.schedule_start - 1, 0));
      }
    }
    if (c.time_limit_seconds > 0 && elapsed >= c.time_limit_seconds && m.step < c.steps) {
      spdlog::warn("train: the {:.0f} s time limit ran out at step {} of {}; saving",
                   c.time_limit_seconds, m.step, c.steps);
      c.steps = m.step;
    }
    const bool last = m.step == c.steps;
    if (m.step % c.log_every == 0 || last) {
      TrainProgress p;
      p.step = m.step;
      p.total = c.steps;
      p.loss = loss_sum.item<double>() / losses;  // synchronises: the step's work is done
      p.lr = m.lr_at(m.step - 1);
      p.grad_norm = m.last_grad_norm.item<double>();
      const auto now = Clock::now();
      p.samples_per_second = samples / std::chrono::duration<double>(now - report_start).count();
      p.seconds = std::chrono::duration<double>(now - start).count();
      log << fmt::format("{},{:.6f},{:.6g},{:.4f},{:.1f},{:.2f}\n", p.step, p.loss, p.lr,
                         p.grad_norm, p.samples_per_second, p.seconds);
      log.flush();
      if (!std::isfinite(p.loss)) {
        throw std::runtime_error(fmt::format("train: the loss is {} at step {}; stopping (lower "
                                             "--lr or raise warmup)", p.loss, p.step));
      }
      if (progress) progress(p);
      loss_sum = at::Tensor();
      losses = samples = 0;
      report_start = now;
    }
    if (c.save_every > 0 && m.step % c.save_every == 0 && !last) {
      save_checkpoint(out_dir / checkpoint_file_name(m.step));
    }
  }
  const double run_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::int64_t steps_run = std::max<std::int64_t>(m.step - first_step, 1);
  spdlog::info("train: {} steps in {:.1f} s: {:.1f} ms a step, of which {:.1f} ms waiting for data",
               m.step - first_step, run_seconds, 1e3 * run_seconds / steps_run,
               1e3 * data_wait_seconds / steps_run);
  save_checkpoint(out_dir / checkpoint_file_name(m.step));
  write_ema_bf16(ema_weights(), out_dir / "ema-bf16.safetensors",
                 {{"model", m.model.name}, {"step", std::to_string(m.step)}});
}

void Trainer::save_checkpoint(const fs::path& path) const {
  const Impl& m = *impl_;
  io::NamedTensors tensors;
  for (std::size_t i = 0; i < m.names.size(); ++i) {
    tensors[std::string(kModelPrefix) + m.names[i]] = m.params[i].detach();
    tensors[std::string(kEmaPrefix) + m.names[i]] = m.ema[i];
    tensors[std::string(kAdamMeanPrefix) + m.names[i]] = m.exp_avg[i];
    tensors[std::string(kAdamSquarePrefix) + m.names[i]] = m.exp_avg_sq[i];
  }
  io::Metadata metadata{
      {"format", std::string(kCheckpointFormat)},
      {"step", std::to_string(m.step)},
      {"seed", std::to_string(m.config.seed)},
      {"model", m.model.name},
      {"model_config", m.model.source_path},
      {"train_config", m.config.source_path},
      {"rng", "noise, t, caption dropout and scenes are seeded from (seed, step)"},
  };
  io::save_safetensors(path, tensors, metadata);
  spdlog::info("train: checkpoint {} (step {})", path.string(), m.step);
}

void Trainer::load_checkpoint(const fs::path& path) {
  Impl& m = *impl_;
  const io::SafetensorsFile file = io::SafetensorsFile::open(path);
  const io::Metadata& metadata = file.metadata();
  const auto value = [&](const std::string& key) {
    const auto it = metadata.find(key);
    if (it == metadata.end()) {
      throw ConfigError(fmt::format("{}: not a sagegen training checkpoint (metadata has no '{}')",
                                    path.string(), key));
    }
    return it->second;
  };
  const std::string format = value("format");
  const bool pack = format == kResumePackFormat;
  if (format != kCheckpointFormat && !pack) {
    throw ConfigError(fmt::format("{}: format '{}', expected '{}' or '{}'", path.string(), format,
                                  kCheckpointFormat, kResumePackFormat));
  }
  if (value("seed") != std::to_string(m.config.seed)) {
    throw ConfigError(fmt::format("{}: trained with seed {}, this run has seed {}; resuming would "
                                  "change the data (pass --seed {})",
                                  path.string(), value("seed"), m.config.seed, value("seed")));
  }
  const std::int64_t step = std::stoll(value("step"));
  if (step > m.config.steps && m.config.schedule != ScheduleKind::kPerRun) {
    throw ConfigError(fmt::format("{}: at step {}, beyond this run's {} steps (schedule: per-run "
                                  "counts steps from the resumed one)",
                                  path.string(), step, m.config.steps));
  }
  io::NamedTensors targets;
  for (std::size_t i = 0; i < m.names.size(); ++i) {
    targets[std::string(kModelPrefix) + m.names[i]] = m.params[i];
    targets[std::string(kAdamSquarePrefix) + m.names[i]] = m.exp_avg_sq[i];
    if (!pack) {
      targets[std::string(kEmaPrefix) + m.names[i]] = m.ema[i];
      targets[std::string(kAdamMeanPrefix) + m.names[i]] = m.exp_avg[i];
    }
  }
  {
    at::NoGradGuard no_grad;
    io::LoadOptions options;
    options.dtype_conversion = pack ? io::DTypeConversion::kConvert : io::DTypeConversion::kReject;
    io::load_into(targets, path, options);
    if (pack) {
      // The EMA restarts from the weights: with decay d it forgets its start within a few 1/(1-d)
      // steps (0.999^5000 < 1%). AdamW's first moment (a 1/(1-beta1)-step average) refills at once.
      for (std::size_t i = 0; i < m.names.size(); ++i) {
        m.ema[i].copy_(m.params[i]);
        m.exp_avg[i].zero_();
      }
    }
  }
  m.step = step;
  spdlog::info("train: resumed from {} at step {}{}", path.string(), step,
               pack ? " (resume pack: EMA from the weights, AdamW first moment from zero)" : "");
}

void Trainer::set_phase_callback(PhaseFn on_phase) { impl_->on_phase = std::move(on_phase); }

std::int64_t Trainer::step() const { return impl_->step; }
const TrainConfig& Trainer::config() const { return impl_->config; }
at::Device Trainer::device() const { return impl_->device; }
const ModelConfig& Trainer::model_config() const { return impl_->model; }

io::NamedTensors Trainer::parameters() const {
  io::NamedTensors out;
  for (std::size_t i = 0; i < impl_->names.size(); ++i) out[impl_->names[i]] = impl_->params[i];
  return out;
}

io::NamedTensors Trainer::ema_weights() const {
  io::NamedTensors out;
  for (std::size_t i = 0; i < impl_->names.size(); ++i) out[impl_->names[i]] = impl_->ema[i];
  return out;
}

}  // namespace sagegen::train
