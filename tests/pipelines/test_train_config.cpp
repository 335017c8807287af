// The trainer's pure parts: training YAML and flag checks, the LR schedule, the EMA formula and
// the frames mix.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "sagegen/errors.h"
#include "sagegen/model_config.h"
#include "sagegen/models/text_to_video_model.h"
#include "sagegen/train/schedule.h"
#include "sagegen/train/train_config.h"
#include "sagegen/train/training_data.h"

namespace sagegen::train {
namespace {

constexpr const char* kValidYaml = R"(model: ../models/sagegen-tiny.yaml
steps: 4000
batch: 128
lr: 4.0e-4
warmup: 500
ema: 0.999
caption_dropout: 0.1
frames_mix:
  - {frames: 1, weight: 3}
  - {frames: 8, weight: 1, batch: 16}
size: 64
seed: 7
)";

// The ConfigError message of `f`, or "" when it did not throw.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfig, ParsesKeysAndResolvesTheModelPath) {
  const TrainConfig c = parse_train_config(kValidYaml, "run.yaml", "/repo/configs/train");
  EXPECT_EQ(c.model, "/repo/configs/models/sagegen-tiny.yaml");
  EXPECT_EQ(c.steps, 4000);
  EXPECT_EQ(c.batch, 128);
  EXPECT_DOUBLE_EQ(c.lr, 4e-4);
  EXPECT_EQ(c.warmup_steps, 500);
  EXPECT_DOUBLE_EQ(c.ema_decay, 0.999);
  ASSERT_EQ(c.frames_mix.size(), 2u);
  EXPECT_EQ(c.frames_mix[1].frames, 8);
  EXPECT_EQ(c.frames_mix[1].batch, 16);
  EXPECT_EQ(c.seed, 7u);
}

TEST(TrainConfig, ShippedConfigsLoad) {
  for (const char* name : {"tiny-t2i.yaml", "tiny-t2v.yaml", "tiny-gpu.yaml", "tiny-cpu.yaml"}) {
    const std::string path = std::string(SAGEGEN_SOURCE_DIR) + "/configs/train/" + name;
    const TrainConfig c = load_train_config(path);
    EXPECT_GT(c.steps, c.warmup_steps) << name;
  }
  const TrainConfig gpu =
      load_train_config(std::string(SAGEGEN_SOURCE_DIR) + "/configs/train/tiny-gpu.yaml");
  EXPECT_EQ(gpu.schedule, ScheduleKind::kPerRun);
}

TEST(TrainConfig, GpuModelFitsTheIssueBudgets) {
  // configs/train/tiny-gpu.yaml trains the next sagegen-tiny (issue 11): patch 4, weights <= 24 MB
  // in bf16, and weights (2 bytes a parameter) + resume pack (4) + ~2 MB of sources must travel to
  // the GPU machine inside its 64 MiB working tree (docs/training.md, "GPU runs").
  const TrainConfig gpu =
      load_train_config(std::string(SAGEGEN_SOURCE_DIR) + "/configs/train/tiny-gpu.yaml");
  const ModelConfig model = load_model_config(gpu.model);
  EXPECT_EQ(model.name, "sagegen-tiny");
  EXPECT_EQ(model.dit.patch.h, 4);
  EXPECT_EQ(model.dit.patch.w, 4);
  const models::TextToVideoModel built =
      models::build_text_to_video_model(model, at::TensorOptions().dtype(at::kFloat));
  std::int64_t count = 0;
  for (const auto& [name, tensor] : built.parameters) count += tensor.numel();
  std::printf("tiny-gpu model: %.2fM parameters\n", count / 1e6);
  EXPECT_LE(2 * count, 24'000'000);
  EXPECT_LE(6 * count + 2'000'000, 60ll << 20);  // 4 MiB of margin under the 64 MiB
}

TEST(TrainConfig, ScheduleKey) {
  EXPECT_EQ(parse_train_config(kValidYaml, "run.yaml", "/").schedule, ScheduleKind::kSingle);
  const std::string per_run = std::string(kValidYaml) + "schedule: per-run\n";
  EXPECT_EQ(parse_train_config(per_run, "run.yaml", "/").schedule, ScheduleKind::kPerRun);
  const std::string bad = error_of([] {
    parse_train_config(std::string(kValidYaml) + "schedule: cosine\n", "run.yaml", "/");
  });
  EXPECT_NE(bad.find("schedule"), std::string::npos) << bad;
  EXPECT_NE(bad.find("per-run"), std::string::npos) << bad;
}

TEST(TrainConfig, UnknownKeyNamesFileLineAndKey) {
  const std::string message = error_of(
      [] { parse_train_config(std::string(kValidYaml) + "learning_rate: 1\n", "run.yaml", "/"); });
  EXPECT_NE(message.find("run.yaml:13"), std::string::npos) << message;
  EXPECT_NE(message.find("learning_rate"), std::string::npos) << message;
}

TEST(TrainConfig, BadValuesNameTheKey) {
  const auto with = [](const std::string& from, const std::string& to) {
    std::string text = kValidYaml;
    text.replace(text.find(from), from.size(), to);
    return error_of([&] { parse_train_config(text, "run.yaml", "/"); });
  };
  EXPECT_NE(with("lr: 4.0e-4", "lr: -1").find("lr"), std::string::npos);
  EXPECT_NE(with("lr: 4.0e-4", "lr: fast").find("expected a number"), std::string::npos);
  EXPECT_NE(with("warmup: 500", "warmup: 4000").find("warmup"), std::string::npos);
  EXPECT_NE(with("ema: 0.999", "ema: 1.5").find("ema"), std::string::npos);
  EXPECT_NE(with("batch: 16}", "batches: 16}").find("frames_mix[1].batches"), std::string::npos);
  EXPECT_NE(with("steps: 4000", "steps: 0").find("steps"), std::string::npos);
}

TEST(TrainConfig, FramesMixShiftKey) {
  std::string text = kValidYaml;
  const std::string clips = "{frames: 8, weight: 1, batch: 16}";
  text.replace(text.find(clips), clips.size(), "{frames: 8, weight: 1, batch: 16, shift: 4}");
  const TrainConfig c = parse_train_config(text, "run.yaml", "/");
  EXPECT_DOUBLE_EQ(c.frames_mix[0].shift, 1.0);  // the default: the logit-normal draw as it is
  EXPECT_DOUBLE_EQ(c.frames_mix[1].shift, 4.0);
  for (const char* bad : {"shift: 0}", "shift: -2}"}) {
    std::string bad_text = kValidYaml;
    bad_text.replace(bad_text.find("batch: 16}"), 10, std::string("batch: 16, ") + bad);
    const std::string message = error_of([&] { parse_train_config(bad_text, "run.yaml", "/"); });
    EXPECT_NE(message.find("frames_mix[1].shift"), std::string::npos) << message;
  }
}

// The shift moves t as SD3's s t / (1 + (s - 1) t) does, whatever the logit-normal's mean and std.
TEST(TimestepShift, OffsetGivesSd3sShiftedTimestep) {
  for (const double mean : {0.0, 0.3}) {
    for (const double std_dev : {1.0, 0.8}) {
      for (const double shift : {1.0, 3.0, 5.0}) {
        for (const double t : {0.05, 0.3, 0.5, 0.9}) {
          const double z = (std::log(t / (1 - t)) - mean) / std_dev;  // the draw that gives t
          const double shifted_logit = (z + timestep_logit_offset(shift, std_dev)) * std_dev + mean;
          const double shifted = 1 / (1 + std::exp(-shifted_logit));
          EXPECT_NEAR(shifted, shift * t / (1 + (shift - 1) * t), 1e-12)
              << "mean " << mean << " std " << std_dev << " shift " << shift << " t " << t;
        }
      }
    }
  }
}

TEST(TrainConfig, GpuConfigTrainsClipsAtHigherNoise) {
  // Motion is decided at high noise (docs/training.md, "Motion"): the clips of tiny-gpu.yaml are
  // shifted, its images are not.
  const TrainConfig gpu =
      load_train_config(std::string(SAGEGEN_SOURCE_DIR) + "/configs/train/tiny-gpu.yaml");
  for (const FramesMixEntry& kind : gpu.frames_mix) {
    if (kind.frames == 1) EXPECT_DOUBLE_EQ(kind.shift, 1.0);
    else EXPECT_GE(kind.shift, 3.0) << kind.frames << "-frame clips";
  }
}

TEST(TrainConfig, FlagsOverrideWithChecks) {
  TrainConfig c = parse_train_config(kValidYaml, "run.yaml", "/");
  apply_train_setting(c, "steps", "60", "--steps");
  apply_train_setting(c, "lr", "1e-3", "--lr");
  apply_train_setting(c, "batch", "8", "--batch");
  EXPECT_EQ(c.steps, 60);
  EXPECT_DOUBLE_EQ(c.lr, 1e-3);
  EXPECT_EQ(frames_for_step(c, 0).batch, 8);  // --batch applies to every kind of the mix

  const std::string bad_lr = error_of([&] { apply_train_setting(c, "lr", "abc", "--lr"); });
  EXPECT_NE(bad_lr.find("--lr"), std::string::npos) << bad_lr;
  EXPECT_NE(bad_lr.find("abc"), std::string::npos) << bad_lr;
  const std::string zero_steps = error_of([&] { apply_train_setting(c, "steps", "0", "--steps"); });
  EXPECT_NE(zero_steps.find(">= 1"), std::string::npos) << zero_steps;
  EXPECT_NE(error_of([&] { apply_train_setting(c, "steps", "12x", "--steps"); }), "");
  EXPECT_NE(error_of([&] { apply_train_setting(c, "colour", "red", "--colour"); }), "");
  TrainConfig short_run = c;
  apply_train_setting(short_run, "steps", "100", "--steps");
  EXPECT_NE(error_of([&] { validate_train_config(short_run); }).find("warmup"), std::string::npos);
}

TEST(LearningRate, WarmupThenCosineToTheFloor) {
  // warmup 10, 111 steps: decay over steps 10..110 (100 steps).
  EXPECT_DOUBLE_EQ(learning_rate_at(0, 1.0, 10, 111, 0.1), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate_at(4, 1.0, 10, 111, 0.1), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate_at(9, 1.0, 10, 111, 0.1), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(10, 1.0, 10, 111, 0.1), 1.0);
  EXPECT_NEAR(learning_rate_at(60, 1.0, 10, 111, 0.1), 0.55, 1e-12);
  EXPECT_NEAR(learning_rate_at(110, 1.0, 10, 111, 0.1), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(learning_rate_at(0, 2.0, 0, 50, 0.0), 2.0);
  for (int step = 11; step < 111; ++step) {
    EXPECT_LT(learning_rate_at(step, 1.0, 10, 111, 0.1), learning_rate_at(step - 1, 1.0, 10, 111, 0.1));
  }
}

TEST(Ema, DecayWarmsUpAndUpdateIsALerp) {
  EXPECT_DOUBLE_EQ(ema_decay_at(0, 0.999), 0.1);
  EXPECT_DOUBLE_EQ(ema_decay_at(90, 0.999), 0.91);
  EXPECT_DOUBLE_EQ(ema_decay_at(1'000'000, 0.999), 0.999);

  std::vector<at::Tensor> ema{at::tensor({1.0f, 2.0f}), at::tensor({-4.0f})};
  const std::vector<at::Tensor> params{at::tensor({3.0f, 6.0f}), at::tensor({4.0f})};
  ema_update(ema, params, 0.75);  // 0.75 * ema + 0.25 * params
  EXPECT_TRUE(at::allclose(ema[0], at::tensor({1.5f, 3.0f})));
  EXPECT_TRUE(at::allclose(ema[1], at::tensor({-2.0f})));
}

TEST(FramesMix, FollowsTheWeightsAndPerKindBatch) {
  TrainConfig c = parse_train_config(kValidYaml, "run.yaml", "/");
  int images = 0;
  constexpr int kSteps = 4000;
  for (int step = 0; step < kSteps; ++step) {
    const FramesMixEntry kind = frames_for_step(c, step);
    if (kind.frames == 1) {
      ++images;
      EXPECT_EQ(kind.batch, 128);
    } else {
      EXPECT_EQ(kind.frames, 8);
      EXPECT_EQ(kind.batch, 16);
    }
  }
  EXPECT_NEAR(images / static_cast<double>(kSteps), 0.75, 0.03);
}

}  // namespace
}  // namespace sagegen::train
