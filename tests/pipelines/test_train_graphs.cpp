// What the CUDA-graph training step rests on: captions padded to one fixed length encode as at
// their own length, the schedule's per-step numbers read from device tensors give the host
// formulas' values, and (on a GPU) steps replayed from graphs train as the eager steps do.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <string>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/errors.h"
#include "sagegen/model_config.h"
#include "sagegen/models/text_to_video_model.h"
#include "sagegen/models/weights.h"
#include "sagegen/train/schedule.h"
#include "sagegen/train/trainer.h"
#include "train/step_scalars.h"

namespace sagegen::train {
namespace {

ModelConfig small_model() {
  return parse_model_config(R"(name: graphs-test
space: pixel
dit:
  depth: 2
  width: 32
  heads: 2
  head_dim: 16
  ffn_dim: 64
  patch: [1, 4, 4]
  in_channels: 3
  out_channels: 3
  text_dim: 32
  text_length: 12
  freq_dim: 16
text_encoder:
  layers: 2
  width: 32
  heads: 2
  ffn_dim: 64
  vocab: )" + std::string(SAGEGEN_SOURCE_DIR) + R"(/assets/vocab.txt
weights: random
seed: 5
)",
                            "graphs-test.yaml", "/");
}

// The fixed length the trainer pads to equals encoding over the longest caption and padding
// the features with zeros afterwards (what the trainer did before): same text features, same
// DiT output, same loss.
TEST(TrainCaptionPadding, FixedLengthGivesTheLossOfTheLongestCaptionLength) {
  const ModelConfig config = small_model();
  models::TextToVideoModel model =
      models::build_text_to_video_model(config, at::TensorOptions().dtype(at::kFloat));
  models::init_random(model.parameters, config.random_seed);
  at::NoGradGuard no_grad;
  AttentionContext attention(config.dit_attention_layers(), sageattn::Variant::kFp16);
  const std::int64_t max_length = model.text_encoder->max_length;
  const text::TokenizedBatch tokens = model.tokenizer->encode_batch(
      {"a red circle", "a blue square above a green triangle", "", "a yellow ring"}, max_length);
  const at::Tensor lengths = tokens.mask.sum(1).to(at::kLong);
  const std::int64_t longest = lengths.max().item<std::int64_t>();
  ASSERT_LT(longest, max_length) << "the test needs padding past the longest caption";

  const at::Tensor at_longest = at::constant_pad_nd(
      model.text_encoder->forward_lengths(tokens.ids.slice(1, 0, longest), lengths, attention),
      {0, 0, 0, max_length - longest});
  const at::Tensor at_fixed = model.text_encoder->forward_lengths(tokens.ids, lengths, attention);
  ASSERT_EQ(at_fixed.sizes(), at_longest.sizes());
  EXPECT_LE((at_fixed - at_longest).abs().max().item<double>(), 1e-5);
  EXPECT_GT(at_fixed.abs().max().item<double>(), 0.1);  // not trivially zero

  const at::Tensor x = at::randn({4, 3, 1, 16, 16}, at::TensorOptions().dtype(at::kFloat));
  const at::Tensor timestep = at::tensor({100.0, 400.0, 700.0, 950.0});
  const at::Tensor target = at::randn_like(x);
  const double loss_longest =
      at::mse_loss(model.dit->forward(x, timestep, at_longest, attention), target).item<double>();
  const double loss_fixed =
      at::mse_loss(model.dit->forward(x, timestep, at_fixed, attention), target).item<double>();
  EXPECT_NEAR(loss_fixed, loss_longest, 1e-6 * loss_longest);
}

// StepScalars hold what the step reads instead of host scalars; the lerp and AdamW that read
// them give exactly what the host-scalar forms give (the CPU kernels; CUDA's round the
// scalars to float the same way).
TEST(TrainStepScalars, CarryTheScheduleAndMatchTheHostScalarUpdates) {
  const at::TensorOptions f32 = at::TensorOptions().dtype(at::kFloat);
  const std::vector<at::Tensor> params{at::randn({3, 4}, f32), at::randn({5}, f32)};
  StepScalars scalars(params);
  ASSERT_EQ(scalars.ema_weights().size(), 2u);
  EXPECT_EQ(scalars.ema_weights()[0].sizes(), params[0].sizes());
  EXPECT_EQ(scalars.lr().dim(), 0);

  std::vector<at::Tensor> ema{at::randn({3, 4}, f32), at::randn({5}, f32)};
  std::vector<at::Tensor> ema_host{ema[0].clone(), ema[1].clone()};
  std::vector<at::Tensor> p_tensor{params[0].clone(), params[1].clone()};
  std::vector<at::Tensor> p_host{params[0].clone(), params[1].clone()};
  auto zeros = [&] { return std::vector<at::Tensor>{at::zeros({3, 4}, f32), at::zeros({5}, f32)}; };
  std::vector<at::Tensor> m_tensor = zeros(), v_tensor = zeros();
  std::vector<at::Tensor> m_host = zeros(), v_host = zeros();
  std::vector<at::Tensor> steps_tensor{at::zeros({}, f32), at::zeros({}, f32)};
  std::vector<at::Tensor> steps_host{at::zeros({}, f32), at::zeros({}, f32)};
  for (std::int64_t step = 0; step < 6; ++step) {
    const double lr = learning_rate_at(step, 3e-3, 2, 6, 0.1);
    const double decay = ema_decay_at(step, 0.99);
    scalars.set(lr, 1.0 - decay);
    EXPECT_EQ(scalars.lr().item<float>(), static_cast<float>(lr)) << "step " << step;
    EXPECT_TRUE(at::equal(scalars.ema_weights()[1],
                          at::full({5}, static_cast<float>(1.0 - decay), f32)))
        << "step " << step;

    const std::vector<at::Tensor> grads{at::randn({3, 4}, f32), at::randn({5}, f32)};
    at::_foreach_add_(steps_tensor, 1.0);
    at::_foreach_add_(steps_host, 1.0);
    at::_fused_adamw_(p_tensor, grads, m_tensor, v_tensor, {}, steps_tensor, scalars.lr(), 0.9,
                      0.999, 0.01, 1e-8, false, false);
    at::_fused_adamw_(p_host, grads, m_host, v_host, {}, steps_host, lr, 0.9, 0.999, 0.01, 1e-8,
                      false, false);
    at::_foreach_lerp_(ema, p_tensor, scalars.ema_weights());
    ema_update(ema_host, p_host, decay);
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_LE((p_tensor[i] - p_host[i]).abs().max().item<double>(), 1e-7) << i;
    EXPECT_LE((ema[i] - ema_host[i]).abs().max().item<double>(), 1e-7) << i;
    EXPECT_GT((p_tensor[i] - params[i]).abs().max().item<double>(), 1e-4) << i;  // they moved
  }
}

TEST(TrainCudaGraphsConfig, KeyAndFlagAreCheckedAndTheCpuRunsEagerly) {
  const std::string base = "model: m.yaml\nsteps: 10\nbatch: 2\nlr: 1e-3\nwarmup: 1\n";
  EXPECT_TRUE(parse_train_config(base, "t.yaml", "/").cuda_graphs);  // default on
  EXPECT_TRUE(parse_train_config(base + "cuda_graphs: true\n", "t.yaml", "/").cuda_graphs);
  EXPECT_FALSE(parse_train_config(base + "cuda_graphs: false\n", "t.yaml", "/").cuda_graphs);
  try {
    parse_train_config(base + "cuda_graphs: maybe\n", "t.yaml", "/");
    FAIL() << "cuda_graphs: maybe was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda_graphs"), std::string::npos) << e.what();
  }
  TrainConfig c = parse_train_config(base, "t.yaml", "/");
  apply_train_setting(c, "cuda-graphs", "off", "--cuda-graphs");
  EXPECT_FALSE(c.cuda_graphs);
  apply_train_setting(c, "cuda-graphs", "on", "--cuda-graphs");
  EXPECT_TRUE(c.cuda_graphs);
  EXPECT_THROW(apply_train_setting(c, "cuda-graphs", "yes", "--cuda-graphs"), ConfigError);

  c.steps = 4;
  Trainer trainer(c, small_model(), at::Device(at::kCPU));
  EXPECT_EQ(trainer.step_mode(), "eager");
  EXPECT_EQ(trainer.graphs_captured(), 0);
}

// Images and short clips, as the world gives them (uint8 [B, F, H, W, 3]), tokenized and pinned
// by the trainer's own preparer.
TrainingBatch world_like_batch(const Trainer& trainer, int samples, int frames, int seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  TrainingBatch batch;
  batch.pixels = at::randint(0, 256, {samples, frames, 16, 16, 3}, gen,
                             at::TensorOptions().dtype(at::kByte));
  const std::vector<std::string> captions{"a red circle", "a blue square above a green triangle",
                                          "a yellow ring on the left", "a cross"};
  for (int i = 0; i < samples; ++i) {
    batch.captions.push_back(captions[(i + seed) % captions.size()]);
  }
  trainer.batch_preparer()(batch);
  return batch;
}

double relative_distance(const io::NamedTensors& a, const io::NamedTensors& b,
                         const io::NamedTensors& origin) {
  double diff = 0, moved = 0;
  for (const auto& [name, tensor] : a) {
    diff += (tensor - b.at(name)).detach().pow(2).sum().item<double>();
    moved += (b.at(name) - origin.at(name)).detach().pow(2).sum().item<double>();
  }
  return std::sqrt(diff) / std::max(std::sqrt(moved), 1e-30);
}

// Two batch shapes (two graphs), each captured after its eager steps and then replayed, against
// the same run with graphs off: the losses step by step, the weights and the EMA agree up to
// the GPU's non-deterministic reductions. A graph that replayed frozen inputs (the noise, t or
// lr of its capture) would move apart at once.
TEST(TrainCudaGraphs, ReplayedStepsTrainAsEagerSteps) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  TrainConfig config;
  config.model = "graphs-test.yaml";
  config.steps = 15;
  config.batch = 4;
  config.lr = 3e-3;
  config.warmup_steps = 3;
  config.min_lr_ratio = 0.0;  // the cosine ends at 0: a frozen lr would show
  config.ema_decay = 0.9;
  config.caption_dropout = 0.3;
  config.seed = 8;
  config.save_every = 0;
  config.cuda_graphs = true;  // off by default (docs/training.md, "CUDA graphs")
  TrainConfig eager_config = config;
  eager_config.cuda_graphs = false;
  const at::Device cuda(at::kCUDA, 0);
  Trainer graphs(config, small_model(), cuda);
  Trainer eager(eager_config, small_model(), cuda);
  ASSERT_EQ(eager.step_mode(), "eager");
  io::NamedTensors origin;
  for (const auto& [name, w] : eager.parameters()) origin[name] = w.detach().clone();

  const TrainingBatch images = world_like_batch(eager, 4, 1, 1);
  const TrainingBatch clips = world_like_batch(eager, 2, 4, 2);
  for (int i = 0; i < 15; ++i) {
    const TrainingBatch& batch = i % 3 == 2 ? clips : images;  // 10 image steps, 5 clip steps
    const double expected = eager.train_step(batch).item<double>();
    const double got = graphs.train_step(batch).item<double>();
    EXPECT_NEAR(got, expected, 2e-3 * std::abs(expected) + 1e-5) << "step " << i;
  }
  EXPECT_EQ(graphs.graphs_captured(), 2);
  EXPECT_EQ(graphs.step_mode(), "CUDA graphs (2 captured)");
  EXPECT_LE(relative_distance(graphs.parameters(), eager.parameters(), origin), 0.02);
  EXPECT_LE(relative_distance(graphs.ema_weights(), eager.ema_weights(), origin), 0.02);
  // The evaluation path (eager, no dropout) sees the same weights.
  EXPECT_NEAR(graphs.evaluate_loss(images, 3), eager.evaluate_loss(images, 3),
              2e-3 * eager.evaluate_loss(images, 3));
}

}  // namespace
}  // namespace sagegen::train
