// Short CPU training runs of a tiny model: the loss goes down, a resumed run equals an
// uninterrupted one, and the exported EMA weights load into the model.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/temp_dir.h"
#include "sagegen/errors.h"
#include "sagegen/eval/adherence.h"
#include "sagegen/eval/prompt_parser.h"
#include "sagegen/model_config.h"
#include "sagegen/models/weights.h"
#include "sagegen/train/benchmark.h"
#include "sagegen/train/trainer.h"

namespace sagegen::train {
namespace {

namespace fs = std::filesystem;

ModelConfig tiny_model() {
  return parse_model_config(R"(name: train-test
space: pixel
dit:
  depth: 1
  width: 32
  heads: 2
  head_dim: 16
  ffn_dim: 64
  patch: [1, 4, 4]
  in_channels: 3
  out_channels: 3
  text_dim: 32
  text_length: 8
  freq_dim: 16
text_encoder:
  layers: 1
  width: 32
  heads: 2
  ffn_dim: 64
  vocab: )" + std::string(SAGEGEN_SOURCE_DIR) + R"(/assets/vocab.txt
weights: random
seed: 3
)",
                            "train-test.yaml", "/");
}

TrainConfig tiny_run(std::int64_t steps) {
  TrainConfig c;
  c.model = "train-test.yaml";
  c.steps = steps;
  c.batch = 4;
  c.lr = 3e-3;
  c.warmup_steps = 2;
  c.ema_decay = 0.9;
  c.caption_dropout = 0.25;
  c.seed = 21;
  c.log_every = 2;
  c.save_every = 0;
  return c;
}

// Four smooth 16x16 images (ramps in different directions and colours) with their captions.
TrainingBatch fixed_batch() {
  const at::Tensor ramp = at::linspace(-1.0, 1.0, 16);
  const at::Tensor rows = ramp.view({16, 1}).expand({16, 16});
  const at::Tensor cols = ramp.view({1, 16}).expand({16, 16});
  const std::vector<at::Tensor> images{
      at::stack({rows, -rows, at::full({16, 16}, 0.5)}),
      at::stack({cols, cols * 0.5, -cols}),
      at::stack({-rows * cols, at::full({16, 16}, -0.8), rows}),
      at::stack({at::full({16, 16}, 0.9), -cols, -rows}),
  };
  TrainingBatch batch;
  batch.pixels = at::stack(images).unsqueeze(2).contiguous();  // [4, 3, 1, 16, 16]
  batch.captions = {"a red circle", "a blue square on the left", "a green ring above a cross",
                    "a yellow triangle"};
  return batch;
}

TEST(TrainRun, ShortCpuRunReducesTheLoss) {
  Trainer trainer(tiny_run(40), tiny_model(), at::Device(at::kCPU));
  const TrainingBatch batch = fixed_batch();
  const double before = trainer.evaluate_loss(batch, 99);
  EXPECT_DOUBLE_EQ(trainer.evaluate_loss(batch, 99), before);  // same seed, same noise and t
  for (int i = 0; i < 40; ++i) trainer.train_step(batch);
  const double after = trainer.evaluate_loss(batch, 99);
  EXPECT_EQ(trainer.step(), 40);
  std::printf("loss before %.4f, after %.4f\n", before, after);
  EXPECT_LT(after, 0.6 * before) << "loss before " << before << ", after " << after;
}

void expect_same(const io::NamedTensors& a, const io::NamedTensors& b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    const at::Tensor& other = b.at(name);
    EXPECT_LE((tensor - other).abs().max().item<double>(), 1e-6) << what << " " << name;
  }
}

TEST(TrainRun, ResumeContinuesAsIfUninterrupted) {
  sagegen::testing::TempDir dir("sagegen-train-resume");
  const TrainingBatch batch = fixed_batch();
  Trainer whole(tiny_run(6), tiny_model(), at::Device(at::kCPU));
  at::Tensor whole_last_loss;
  for (int i = 0; i < 6; ++i) whole_last_loss = whole.train_step(batch);

  const fs::path checkpoint = dir.path() / "checkpoint-00000003.safetensors";
  {
    Trainer first(tiny_run(6), tiny_model(), at::Device(at::kCPU));
    for (int i = 0; i < 3; ++i) first.train_step(batch);
    first.save_checkpoint(checkpoint);
  }
  Trainer resumed(tiny_run(6), tiny_model(), at::Device(at::kCPU));
  resumed.load_checkpoint(find_checkpoint(dir.path()));
  ASSERT_EQ(resumed.step(), 3);
  at::Tensor resumed_last_loss;
  for (int i = 0; i < 3; ++i) resumed_last_loss = resumed.train_step(batch);

  EXPECT_NEAR(resumed_last_loss.item<double>(), whole_last_loss.item<double>(), 1e-6);
  expect_same(resumed.parameters(), whole.parameters(), "parameter");
  expect_same(resumed.ema_weights(), whole.ema_weights(), "EMA");
  // The resumed run moved away from the checkpoint: the comparison above is not vacuous.
  Trainer at_three(tiny_run(6), tiny_model(), at::Device(at::kCPU));
  at_three.load_checkpoint(checkpoint);
  const at::Tensor w = at_three.parameters().at("proj_out.weight");
  EXPECT_GT((w - whole.parameters().at("proj_out.weight")).abs().max().item<double>(), 1e-5);
}

TEST(TrainRun, ResumeRefusesAnotherSeed) {
  sagegen::testing::TempDir dir("sagegen-train-seed");
  Trainer trainer(tiny_run(4), tiny_model(), at::Device(at::kCPU));
  trainer.save_checkpoint(dir.path() / "checkpoint-00000000.safetensors");
  TrainConfig other = tiny_run(4);
  other.seed = 22;
  Trainer second(other, tiny_model(), at::Device(at::kCPU));
  try {
    second.load_checkpoint(dir.path() / "checkpoint-00000000.safetensors");
    FAIL() << "a checkpoint of seed 21 resumed under seed 22";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("seed 21"), std::string::npos) << e.what();
  }
  EXPECT_THROW(find_checkpoint(dir.path() / "missing"), ConfigError);
}

TEST(TrainRun, RunWritesLogCheckpointsAndLoadableEmaWeights) {
  sagegen::testing::TempDir dir("sagegen-train-run");
  TrainConfig config = tiny_run(5);
  config.save_every = 2;
  Trainer trainer(config, tiny_model(), at::Device(at::kCPU));
  auto data = make_fixed_data(fixed_batch());
  int reports = 0;
  trainer.run(*data, dir.path(), [&](const TrainProgress& p) {
    ++reports;
    EXPECT_GT(p.samples_per_second, 0);
    EXPECT_TRUE(std::isfinite(p.loss));
  });
  EXPECT_EQ(reports, 3);  // steps 2, 4 and the last (5)
  for (const char* name : {"checkpoint-00000002.safetensors", "checkpoint-00000004.safetensors",
                           "checkpoint-00000005.safetensors", "ema-bf16.safetensors"}) {
    EXPECT_TRUE(fs::exists(dir.path() / name)) << name;
  }
  std::ifstream log(dir.path() / "loss.csv");
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) ++lines;
  EXPECT_EQ(lines, 4);  // header + 3 reports
  EXPECT_EQ(find_checkpoint(dir.path()).filename(), "checkpoint-00000005.safetensors");

  // The exported file loads into a freshly built model by its own tensor names.
  const fs::path exported = dir.path() / "exported.safetensors";
  export_ema_weights(dir.path() / "checkpoint-00000005.safetensors", exported);
  io::NamedTensors fresh;
  for (const auto& [name, tensor] : trainer.ema_weights()) fresh[name] = at::zeros_like(tensor);
  models::load_weights(fresh, exported.string());
  for (const auto& [name, tensor] : trainer.ema_weights()) {
    EXPECT_TRUE(at::allclose(fresh.at(name), tensor, 1e-2, 1e-2)) << name;  // bf16 rounding
  }
}

TEST(TrainRun, TimeLimitShortensTheRunAndStillSaves) {
  sagegen::testing::TempDir dir("sagegen-train-time");
  auto data = make_fixed_data(fixed_batch());
  // A budget already spent: the run stops after its first step and saves as at the end.
  TrainConfig spent = tiny_run(2000);
  spent.time_limit_seconds = 1e-6;
  Trainer stopped(spent, tiny_model(), at::Device(at::kCPU));
  stopped.run(*data, dir.path() / "spent");
  EXPECT_EQ(stopped.step(), 1);
  EXPECT_TRUE(fs::exists(dir.path() / "spent" / "checkpoint-00000001.safetensors"));
  EXPECT_TRUE(fs::exists(dir.path() / "spent" / "ema-bf16.safetensors"));

  // A budget of about 60 step times: the steps are fitted after 20, far below the 2000 asked.
  const auto start = std::chrono::steady_clock::now();
  Trainer probe(tiny_run(20), tiny_model(), at::Device(at::kCPU));
  probe.run(*data, dir.path() / "probe");
  const double per_step =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 20;
  TrainConfig budget = tiny_run(2000);
  budget.time_limit_seconds = 60 * per_step;
  Trainer fitted(budget, tiny_model(), at::Device(at::kCPU));
  fitted.run(*data, dir.path() / "fitted");
  EXPECT_GE(fitted.step(), 1);
  EXPECT_LT(fitted.step(), 1000) << "the time limit did not shorten the run";
  EXPECT_EQ(fitted.config().steps, fitted.step()) << "the schedule ends where the run ended";
  EXPECT_TRUE(fs::exists(dir.path() / "fitted" / "ema-bf16.safetensors"));
}

TEST(TrainRun, WorldUint8BatchesEqualTheirFloatForm) {
  // The shapes world hands over [B, F, H, W, 3] uint8; the trainer converts it on its device.
  Trainer trainer(tiny_run(4), tiny_model(), at::Device(at::kCPU));
  TrainingBatch bytes = fixed_batch();
  bytes.pixels = at::randint(0, 256, {4, 1, 16, 16, 3}, at::TensorOptions().dtype(at::kByte));
  TrainingBatch floats = bytes;
  floats.pixels = bytes.pixels.permute({0, 4, 1, 2, 3}).to(at::kFloat).div(127.5).sub(1.0).contiguous();
  EXPECT_DOUBLE_EQ(trainer.evaluate_loss(bytes, 5), trainer.evaluate_loss(floats, 5));
}

// The last lr column of loss.csv at `step` (log_every 1).
double logged_lr(const fs::path& csv, std::int64_t step) {
  std::ifstream log(csv);
  std::string line;
  while (std::getline(log, line)) {
    if (line.rfind(std::to_string(step) + ",", 0) == 0) {
      const auto first = line.find(',');
      const auto second = line.find(',', first + 1);
      return std::stod(line.substr(second + 1, line.find(',', second + 1) - second - 1));
    }
  }
  ADD_FAILURE() << "no row for step " << step << " in " << csv;
  return -1;
}

TEST(TrainRun, ResumePackCarriesWeightsAndSecondMomentAndPerRunScheduleRestarts) {
  sagegen::testing::TempDir dir("sagegen-train-pack");
  auto data = make_fixed_data(fixed_batch());
  TrainConfig config = tiny_run(4);
  config.schedule = ScheduleKind::kPerRun;
  config.log_every = 1;
  Trainer first(config, tiny_model(), at::Device(at::kCPU));
  first.run(*data, dir.path());
  ASSERT_EQ(first.step(), 4);
  const fs::path pack = dir.path() / "resume-pack.safetensors";
  export_resume_pack(dir.path() / "checkpoint-00000004.safetensors", pack);
  const io::SafetensorsFile file = io::SafetensorsFile::open(pack);
  for (const auto& info : file.tensors()) {
    EXPECT_TRUE(info.name.rfind("model.", 0) == 0 || info.name.rfind("adam_v.", 0) == 0) << info.name;
    EXPECT_EQ(info.dtype, io::DType::kBF16) << info.name;
  }
  EXPECT_LT(fs::file_size(pack), fs::file_size(dir.path() / "checkpoint-00000004.safetensors") / 3);

  // A second run from the pack: 4 more steps (per-run: `steps` counts from the resumed step),
  // its own warm-up from lr / warmup, the weights and EMA as the first run's weights in bf16.
  Trainer second(config, tiny_model(), at::Device(at::kCPU));
  second.load_checkpoint(pack);
  EXPECT_EQ(second.step(), 4);
  for (const auto& [name, w] : first.parameters()) {
    const at::Tensor rounded = w.detach().to(at::kBFloat16).to(at::kFloat);
    EXPECT_TRUE(at::equal(second.parameters().at(name).detach(), rounded)) << name;
    EXPECT_TRUE(at::equal(second.ema_weights().at(name), rounded)) << name;
  }
  second.run(*data, dir.path());
  EXPECT_EQ(second.step(), 8);
  EXPECT_EQ(second.config().steps, 8);
  EXPECT_NEAR(logged_lr(dir.path() / "loss.csv", 1), config.lr / 2, 1e-9);  // first run's warm-up
  EXPECT_NEAR(logged_lr(dir.path() / "loss.csv", 5), config.lr / 2, 1e-9);  // the second's
  EXPECT_NEAR(logged_lr(dir.path() / "loss.csv", 8), config.lr * config.min_lr_ratio, 1e-9);
  EXPECT_TRUE(fs::exists(dir.path() / "checkpoint-00000008.safetensors"));

  // Under the single schedule a pack past `steps` is refused, naming the step.
  Trainer single(tiny_run(6), tiny_model(), at::Device(at::kCPU));
  single.load_checkpoint(pack);  // step 4 of 6: fine
  EXPECT_EQ(single.step(), 4);
  Trainer short_run(tiny_run(3), tiny_model(), at::Device(at::kCPU));
  EXPECT_THROW(short_run.load_checkpoint(pack), ConfigError);
}

// A batch's timestep shift reaches the step (its t, hence the loss, moves); shift 1 is the plain draw.
TEST(TrainRun, BatchTimestepShiftMovesTheLoss) {
  Trainer trainer(tiny_run(4), tiny_model(), at::Device(at::kCPU));
  const TrainingBatch plain = fixed_batch();
  TrainingBatch one = plain, shifted = plain;
  one.timestep_shift = 1.0;
  shifted.timestep_shift = 5.0;
  EXPECT_DOUBLE_EQ(trainer.evaluate_loss(one, 5), trainer.evaluate_loss(plain, 5));
  EXPECT_NE(trainer.evaluate_loss(shifted, 5), trainer.evaluate_loss(plain, 5));
}

// The clips the trainer learns motion from: every caption's motion (and relation) is what its
// frames show, by the evaluator that scores the model's clips, and the batch carries its kind's
// timestep shift. A caption/render mismatch (a flipped axis, frames out of order) fails here.
TEST(TrainRun, WorldClipsMoveAsTheirCaptionsSay) {
  TrainConfig config = tiny_run(4);
  config.frames_mix = {FramesMixEntry{8, 1.0, 12, 5.0}};
  config.max_objects = 2;
  const auto data = make_shapes_world_data(config);
  eval::AdherenceTally tally;
  for (std::int64_t step = 0; step < 2; ++step) {
    const TrainingBatch batch = data->batch_for_step(step);
    ASSERT_EQ(batch.pixels.sizes(), (std::vector<std::int64_t>{12, 8, 64, 64, 3}));
    EXPECT_DOUBLE_EQ(batch.timestep_shift, 5.0);
    for (std::size_t i = 0; i < batch.captions.size(); ++i) {
      tally.add(eval::score_prompt(eval::parse_prompt(batch.captions[i]), batch.pixels[i]));
    }
  }
  ASSERT_TRUE(tally.accuracy(eval::Attribute::kMotion).has_value());
  EXPECT_DOUBLE_EQ(*tally.accuracy(eval::Attribute::kMotion), 1.0) << tally.table();
  ASSERT_TRUE(tally.accuracy(eval::Attribute::kRelation).has_value()) << "no two-object clip";
  EXPECT_DOUBLE_EQ(*tally.accuracy(eval::Attribute::kRelation), 1.0) << tally.table();
}

// Batches the data threads tokenized ahead (Trainer::batch_preparer) train exactly as the same
// batches tokenized by the trainer.
TEST(TrainRun, PreparedBatchesGiveTheSameLoss) {
  TrainConfig config = tiny_run(4);
  config.size = 32;
  Trainer trainer(config, tiny_model(), at::Device(at::kCPU));
  const auto prepared = make_shapes_world_data(trainer.config(), trainer.batch_preparer());
  const auto plain = make_shapes_world_data(trainer.config());
  const TrainingBatch a = prepared->batch_for_step(0);
  const TrainingBatch b = plain->batch_for_step(0);
  ASSERT_TRUE(a.token_ids.defined());
  ASSERT_FALSE(b.token_ids.defined());
  EXPECT_EQ(a.token_ids.size(0), 4);
  EXPECT_EQ(a.captions, b.captions);
  EXPECT_DOUBLE_EQ(trainer.evaluate_loss(a, 5), trainer.evaluate_loss(b, 5));
  // The batch taken was rendered and prepared (others may still be in flight).
  EXPECT_GE(prepared->stats().batches, 1);
  EXPECT_GT(prepared->stats().prepare_seconds, 0.0);
}

TEST(TrainBenchmark, TimesEveryPhaseAndProfilesTheOps) {
  TrainConfig config = tiny_run(100);
  config.size = 32;
  Trainer trainer(config, tiny_model(), at::Device(at::kCPU));
  const auto data = make_shapes_world_data(trainer.config(), trainer.batch_preparer());
  BenchmarkOptions options;
  options.warmup_steps = 1;
  options.steps = 2;
  options.profile_steps = 1;
  const BenchmarkReport report = benchmark_training(trainer, *data, options);
  EXPECT_EQ(trainer.step(), 1 + 2 + 2 + 1);  // warm-up, two passes, profile
  EXPECT_GT(report.step_ms, 0.0);
  EXPECT_DOUBLE_EQ(report.samples_per_step, 4.0);
  EXPECT_GT(report.render_ms_per_batch, 0.0);
  std::vector<std::string> phases;
  for (const auto& phase : report.phases) phases.push_back(phase.name);
  EXPECT_EQ(phases, (std::vector<std::string>{"data wait", "batch to device, noise",
                                              "text encoder", "DiT forward, loss", "backward",
                                              "clip, AdamW, EMA"}));
  EXPECT_EQ(report.profile_error, "");
  EXPECT_FALSE(report.kernels.empty());
  EXPECT_GT(report.launches_per_step, 100.0);  // a DiT step is hundreds of ops
  const std::string text = format_benchmark(report);
  EXPECT_NE(text.find("waiting for data"), std::string::npos) << text;
  EXPECT_NE(text.find("DiT forward, loss"), std::string::npos) << text;
}

TEST(TrainConfigTimeLimit, FlagAndKeyAreChecked) {
  TrainConfig c = tiny_run(10);
  apply_train_setting(c, "time-limit", "900", "--time-limit");
  EXPECT_DOUBLE_EQ(c.time_limit_seconds, 900);
  EXPECT_THROW(apply_train_setting(c, "time-limit", "-1", "--time-limit"), ConfigError);
  EXPECT_THROW(apply_train_setting(c, "time-limit", "soon", "--time-limit"), ConfigError);
}

}  // namespace
}  // namespace sagegen::train
