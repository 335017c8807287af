// The DiT and text encoder: forward shapes (image, video, joint attention), Wan checkpoint
// names and shapes, RoPE properties, attention layer ids, determinism of random init, and
// model config YAML errors.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sagegen/attention_context.h"
#include "sagegen/models/prediction.h"
#include "sagegen/errors.h"
#include "sagegen/io/safetensors.h"
#include "sagegen/model_config.h"
#include "sagegen/models/rope.h"
#include "sagegen/models/text_encoder.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/models/weights.h"

namespace sagegen {
namespace {

DitConfig small_dit(TextConditioning conditioning = TextConditioning::kCrossAttention) {
  DitConfig c;
  c.depth = 2;
  c.width = 64;
  c.heads = 2;
  c.head_dim = 32;
  c.ffn_dim = 128;
  c.patch = Extent3{1, 2, 2};
  c.in_channels = 3;
  c.out_channels = 3;
  c.text_dim = 48;
  c.text_length = 6;
  c.freq_dim = 32;
  c.conditioning = conditioning;
  return c;
}

std::shared_ptr<models::WanTransformer3DModel> random_dit(const DitConfig& config,
                                                          std::uint64_t seed = 1) {
  auto dit = std::make_shared<models::WanTransformer3DModel>(config, at::TensorOptions());
  std::map<std::string, at::Tensor> params;
  models::collect_parameters(*dit, "", params);
  models::init_random(params, seed);
  return dit;
}

std::set<std::string> names_under(const torch::nn::Module& module, const std::string& prefix) {
  std::set<std::string> names;
  for (const auto& item : module.named_parameters()) {
    if (item.key().rfind(prefix, 0) == 0) names.insert(item.key().substr(prefix.size()));
  }
  return names;
}

TEST(Model, ForwardShapeImageAndVideo) {
  c10::InferenceMode inference;
  const auto dit = random_dit(small_dit());
  AttentionContext attention(4);
  attention.set_step(0);
  for (const std::vector<std::int64_t>& shape :
       {std::vector<std::int64_t>{2, 3, 1, 8, 8}, std::vector<std::int64_t>{1, 3, 3, 6, 10}}) {
    const at::Tensor x = at::randn(shape);
    const at::Tensor t = at::full({shape[0]}, 500.0);
    const at::Tensor text = at::randn({shape[0], 6, 48});
    const at::Tensor v = dit->forward(x, t, text, attention);
    EXPECT_EQ(v.sizes(), x.sizes());
    EXPECT_TRUE(v.isfinite().all().item<bool>());
    EXPECT_GT(v.abs().sum().item<double>(), 0.0);
  }
}

TEST(Model, JointAttentionHasNoCrossAttentionAndKeepsShapes) {
  c10::InferenceMode inference;
  const auto dit = random_dit(small_dit(TextConditioning::kJointAttention));
  const auto block = names_under(*dit, "blocks.0.");
  EXPECT_EQ(block.count("attn2.to_q.weight"), 0u);
  EXPECT_EQ(block.count("norm2.weight"), 0u);
  std::vector<int> layers;
  std::vector<std::int64_t> key_lengths;
  AttentionContext attention(4);
  attention.set_observer([&](const AttentionCall& call) {
    layers.push_back(call.layer);
    key_lengths.push_back(call.k.size(1));
  });
  attention.set_step(0);
  const at::Tensor x = at::randn({1, 3, 1, 8, 8});
  const at::Tensor v = dit->forward(x, at::full({1}, 10.0), at::randn({1, 6, 48}), attention);
  EXPECT_EQ(v.sizes(), x.sizes());
  EXPECT_EQ(layers, (std::vector<int>{0, 2}));
  EXPECT_EQ(key_lengths, (std::vector<std::int64_t>{6 + 16, 6 + 16}));  // text + 4x4 patches
}

TEST(Model, AttentionCallsUseSelfAndCrossLayerIds) {
  c10::InferenceMode inference;
  const auto dit = random_dit(small_dit());
  std::vector<int> layers;
  std::vector<std::int64_t> key_lengths;
  AttentionContext attention(4);
  attention.set_observer([&](const AttentionCall& call) {
    layers.push_back(call.layer);
    key_lengths.push_back(call.k.size(1));
  });
  attention.set_step(0);
  dit->forward(at::randn({1, 3, 2, 4, 4}), at::full({1}, 10.0), at::randn({1, 6, 48}), attention);
  EXPECT_EQ(layers, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(key_lengths, (std::vector<std::int64_t>{8, 6, 8, 6}));  // 2 frames x 2 x 2 tokens
}

// Names of one block and of the top level of diffusers' WanTransformer3DModel checkpoints
// (e.g. Wan-AI/Wan2.1-T2V-1.3B-Diffusers, transformer/diffusion_pytorch_model.safetensors).
TEST(Model, ParameterNamesMatchTheWanCheckpoint) {
  const models::WanTransformer3DModel dit(small_dit(), at::TensorOptions().device(at::kMeta));
  const std::set<std::string> expected_block = {
      "attn1.norm_k.weight", "attn1.norm_q.weight", "attn1.to_k.bias", "attn1.to_k.weight",
      "attn1.to_out.0.bias", "attn1.to_out.0.weight", "attn1.to_q.bias", "attn1.to_q.weight",
      "attn1.to_v.bias", "attn1.to_v.weight",
      "attn2.norm_k.weight", "attn2.norm_q.weight", "attn2.to_k.bias", "attn2.to_k.weight",
      "attn2.to_out.0.bias", "attn2.to_out.0.weight", "attn2.to_q.bias", "attn2.to_q.weight",
      "attn2.to_v.bias", "attn2.to_v.weight",
      "ffn.net.0.proj.bias", "ffn.net.0.proj.weight", "ffn.net.2.bias", "ffn.net.2.weight",
      "norm2.bias", "norm2.weight", "scale_shift_table"};
  EXPECT_EQ(names_under(dit, "blocks.1."), expected_block);

  std::set<std::string> top;
  for (const auto& item : dit.named_parameters()) {
    if (item.key().rfind("blocks.", 0) != 0) top.insert(item.key());
  }
  const std::set<std::string> expected_top = {
      "condition_embedder.text_embedder.linear_1.bias",
      "condition_embedder.text_embedder.linear_1.weight",
      "condition_embedder.text_embedder.linear_2.bias",
      "condition_embedder.text_embedder.linear_2.weight",
      "condition_embedder.time_embedder.linear_1.bias",
      "condition_embedder.time_embedder.linear_1.weight",
      "condition_embedder.time_embedder.linear_2.bias",
      "condition_embedder.time_embedder.linear_2.weight",
      "condition_embedder.time_proj.bias", "condition_embedder.time_proj.weight",
      "patch_embedding.bias", "patch_embedding.weight", "proj_out.bias", "proj_out.weight",
      "scale_shift_table"};
  EXPECT_EQ(top, expected_top);
}

TEST(Model, WanShapeConfigHasTheCheckpointShapes) {
  const ModelConfig config =
      load_model_config(SAGEGEN_SOURCE_DIR "/configs/models/wan2.1-1.3b-shape.yaml");
  // On the meta device: shapes without memory.
  const models::WanTransformer3DModel dit(config.dit, at::TensorOptions().device(at::kMeta));
  std::map<std::string, std::vector<std::int64_t>> shapes;
  std::int64_t count = 0;
  for (const auto& item : dit.named_parameters()) {
    shapes[item.key()] = item.value().sizes().vec();
    count += item.value().numel();
  }
  using Shape = std::vector<std::int64_t>;
  EXPECT_EQ(shapes.at("patch_embedding.weight"), (Shape{1536, 16, 1, 2, 2}));
  EXPECT_EQ(shapes.at("condition_embedder.time_embedder.linear_1.weight"), (Shape{1536, 256}));
  EXPECT_EQ(shapes.at("condition_embedder.time_proj.weight"), (Shape{9216, 1536}));
  EXPECT_EQ(shapes.at("condition_embedder.text_embedder.linear_1.weight"), (Shape{1536, 4096}));
  EXPECT_EQ(shapes.at("blocks.29.ffn.net.0.proj.weight"), (Shape{8960, 1536}));
  EXPECT_EQ(shapes.at("blocks.29.attn2.norm_k.weight"), (Shape{1536}));
  EXPECT_EQ(shapes.at("blocks.0.scale_shift_table"), (Shape{1, 6, 1536}));
  EXPECT_EQ(shapes.at("proj_out.weight"), (Shape{64, 1536}));
  EXPECT_EQ(shapes.at("scale_shift_table"), (Shape{1, 2, 1536}));
  EXPECT_EQ(shapes.count("blocks.30.attn1.to_q.weight"), 0u);
  // Wan2.1-T2V-1.3B: about 1.42 billion parameters.
  EXPECT_GT(count, 1'350'000'000);
  EXPECT_LT(count, 1'450'000'000);
}

TEST(Rope, AxisSplitFollowsWan) {
  const models::RopeAxisDims d128 = models::rope_axis_dims(128);
  EXPECT_EQ(d128.t, 44);
  EXPECT_EQ(d128.h, 42);
  EXPECT_EQ(d128.w, 42);
  const models::RopeAxisDims d64 = models::rope_axis_dims(64);
  EXPECT_EQ(d64.t + d64.h + d64.w, 64);
  EXPECT_EQ(d64.h, 20);
}

// Rotations keep norms, and q.k depends only on the offset between positions.
// apply_rope multiplies pairs as complex numbers; the result must be Wan's pair formula
// (x0 cos - x1 sin, x0 sin + x1 cos), also for tables given as cos and sin only.
TEST(Rope, RotationIsWansPairFormula) {
  const models::RopeTables rope = models::make_rope_tables(Extent3{2, 3, 4}, 64, 10000.0, 1, at::kCPU);
  const at::Tensor x = at::randn({2, 25, 3, 64}, at::kFloat);
  const at::Tensor pairs = x.unflatten(-1, {-1, 2});
  const at::Tensor x0 = pairs.select(-1, 0), x1 = pairs.select(-1, 1);
  const at::Tensor cos = rope.cos.unsqueeze(1), sin = rope.sin.unsqueeze(1);
  const at::Tensor expected = at::stack({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1).flatten(-2);
  const at::Tensor out = models::apply_rope(x, rope);
  EXPECT_LE((out - expected).abs().max().item<double>(), 1e-5);
  const models::RopeTables cos_sin_only{rope.cos, rope.sin, {}};
  EXPECT_TRUE(at::equal(models::apply_rope(x, cos_sin_only), out));
  EXPECT_EQ(models::apply_rope(x.to(at::kBFloat16), rope).scalar_type(), at::kBFloat16);
}

TEST(Rope, DotProductsDependOnRelativePosition) {
  const int d = 64;
  const models::RopeTables rope =
      models::make_rope_tables(Extent3{3, 4, 5}, d, 10000.0, 2, at::kCPU);
  ASSERT_EQ(rope.cos.size(0), 2 + 60);
  const at::Tensor q = at::randn({1, 1, 1, d}, at::kFloat).expand({1, 62, 1, d}).contiguous();
  const at::Tensor k = at::randn({1, 1, 1, d}, at::kFloat).expand({1, 62, 1, d}).contiguous();
  const at::Tensor rq = models::apply_rope(q, rope);
  const at::Tensor rk = models::apply_rope(k, rope);
  EXPECT_TRUE(at::allclose(rq.norm(2, -1), q.norm(2, -1), 1e-5, 1e-5));
  // Leading (text) tokens are not rotated.
  EXPECT_TRUE(at::allclose(rq.slice(1, 0, 2), q.slice(1, 0, 2)));
  const auto token = [](int f, int r, int c) { return 2 + (f * 4 + r) * 5 + c; };
  const auto dot = [&](int a, int b) {
    return (rq[0][a][0] * rk[0][b][0]).sum().item<double>();
  };
  EXPECT_NEAR(dot(token(0, 1, 1), token(1, 2, 3)), dot(token(1, 2, 2), token(2, 3, 4)), 1e-4);
  EXPECT_GT(std::abs(dot(token(0, 0, 0), token(0, 0, 1)) - dot(token(0, 0, 0), token(0, 0, 3))),
            1e-4);
}

// The model tells a clip's frames apart only through the time axis of its 3D RoPE (no other
// per-frame input): a clip of identical frames must come out different at each frame, and the
// same frames reversed must not come out as the reversed output (order, not only offsets).
TEST(Model, TimeAxisSetsFramesApart) {
  c10::InferenceMode inference;
  const auto dit = random_dit(small_dit(), 4);
  AttentionContext attention(4);
  attention.set_step(0);
  const at::Tensor frame = at::randn({1, 3, 1, 8, 8});
  const at::Tensor t = at::full({1}, 700.0);
  const at::Tensor text = at::randn({1, 6, 48});
  const at::Tensor same = dit->forward(frame.expand({1, 3, 4, 8, 8}).contiguous(), t, text, attention);
  for (int f = 1; f < 4; ++f) {
    EXPECT_GT((same.select(2, f) - same.select(2, 0)).abs().max().item<double>(), 1e-3) << "frame " << f;
  }
  const at::Tensor clip = at::randn({1, 3, 4, 8, 8});
  const at::Tensor reversed_in = clip.flip({2});
  const at::Tensor out = dit->forward(clip, t, text, attention);
  const at::Tensor out_of_reversed = dit->forward(reversed_in, t, text, attention);
  EXPECT_GT((out_of_reversed - out.flip({2})).abs().max().item<double>(), 1e-3);
}

TEST(Model, RandomInitAndForwardAreDeterministic) {
  c10::InferenceMode inference;
  const auto a = random_dit(small_dit(), 5);
  const auto b = random_dit(small_dit(), 5);
  const auto c = random_dit(small_dit(), 6);
  const at::Tensor x = at::randn({1, 3, 1, 8, 8});
  const at::Tensor t = at::full({1}, 300.0);
  const at::Tensor text = at::randn({1, 6, 48});
  AttentionContext attention(4);
  attention.set_step(0);
  const at::Tensor va = a->forward(x, t, text, attention);
  EXPECT_TRUE(at::equal(va, b->forward(x, t, text, attention)));
  EXPECT_FALSE(at::equal(va, c->forward(x, t, text, attention)));
}

// A seed is one model whatever the parameters' dtype or device (issue 13 item 9: CUDA drew its
// random weights with its own generator, so the same request gave another picture). On the CPU
// the dtype stands in for the device: float64 parameters hold the float32 draw exactly.
TEST(Model, RandomInitIsTheSameDrawForEveryDtype) {
  c10::InferenceMode inference;
  const DitConfig config = small_dit();
  models::WanTransformer3DModel f32(config, at::TensorOptions().dtype(at::kFloat));
  models::WanTransformer3DModel f64(config, at::TensorOptions().dtype(at::kDouble));
  std::map<std::string, at::Tensor> a, b;
  models::collect_parameters(f32, "", a);
  models::collect_parameters(f64, "", b);
  models::init_random(a, 9);
  models::init_random(b, 9);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, param] : a) {
    EXPECT_TRUE(at::equal(param.to(at::kDouble), b.at(name))) << name;
  }
}

// A checkpoint written from one model loads into another by name; a missing tensor is named.
TEST(Model, WeightsRoundTripThroughSafetensors) {
  c10::InferenceMode inference;
  const auto source = random_dit(small_dit(), 21);
  std::map<std::string, at::Tensor> saved;
  models::collect_parameters(*source, "", saved);
  const std::string path = ::testing::TempDir() + "sagegen_test_weights_" +
                           std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                           ".safetensors";
  io::save_safetensors(path, saved);

  const auto target = random_dit(small_dit(), 22);
  std::map<std::string, at::Tensor> params;
  models::collect_parameters(*target, "", params);
  models::load_weights(params, path);
  AttentionContext attention(4);
  attention.set_step(0);
  const at::Tensor x = at::randn({1, 3, 1, 8, 8});
  const at::Tensor t = at::full({1}, 100.0);
  const at::Tensor text = at::randn({1, 6, 48});
  EXPECT_TRUE(at::equal(source->forward(x, t, text, attention),
                        target->forward(x, t, text, attention)));

  saved.erase("blocks.1.attn2.to_k.bias");
  io::save_safetensors(path, saved);
  try {
    models::load_weights(params, path);
    ADD_FAILURE() << "a missing tensor loaded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("blocks.1.attn2.to_k.bias"), std::string::npos)
        << e.what();
  }
  std::remove(path.c_str());
}

TEST(TextEncoder, EncodesAndPadsWithZeros) {
  c10::InferenceMode inference;
  TextEncoderConfig config;
  config.layers = 2;
  config.width = 48;
  config.heads = 2;
  config.ffn_dim = 96;
  models::TextEncoder encoder(config, 20, 8, 1e-6, at::TensorOptions());
  encoder.first_layer_id = 4;
  std::map<std::string, at::Tensor> params;
  models::collect_parameters(encoder, "", params);
  EXPECT_EQ(params.count("layers.1.attn.to_out.0.weight"), 1u);
  EXPECT_EQ(params.count("position_embedding.weight"), 1u);
  models::init_random(params, 3);
  std::vector<int> layers;
  AttentionContext attention(4);
  attention.set_observer([&](const AttentionCall& call) {
    layers.push_back(call.layer);
    EXPECT_EQ(call.variant, sageattn::Variant::kFp16);
  });
  const at::Tensor out = encoder.encode_padded({2, 7, 9, 3}, attention);
  EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{1, 8, 48}));
  EXPECT_GT(out.slice(1, 0, 4).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(out.slice(1, 4).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(layers, (std::vector<int>{4, 5}));
}

// The trainer encodes a batch of captions in one masked pass; each row must equal its prompt
// encoded alone (what the pipeline does), and the padding must be zero.
TEST(TextEncoder, ForwardLengthsEqualsEachPromptAlone) {
  c10::InferenceMode inference;
  TextEncoderConfig config;
  config.layers = 2;
  config.width = 48;
  config.heads = 2;
  config.ffn_dim = 96;
  models::TextEncoder encoder(config, 20, 8, 1e-6, at::TensorOptions());
  std::map<std::string, at::Tensor> params;
  models::collect_parameters(encoder, "", params);
  models::init_random(params, 5);
  AttentionContext attention(4);
  const std::vector<std::vector<std::int64_t>> prompts{{2, 7, 9, 3}, {2, 3}, {2, 5, 6, 11, 12, 3}};
  at::Tensor ids = at::zeros({3, 6}, at::kLong);
  at::Tensor lengths = at::zeros({3}, at::kLong);
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    for (std::size_t i = 0; i < prompts[b].size(); ++i) ids[b][i] = prompts[b][i];
    lengths[b] = static_cast<std::int64_t>(prompts[b].size());
  }
  ids[1][4] = 13;  // whatever follows a row's length must not matter
  const at::Tensor out = encoder.forward_lengths(ids, lengths, attention);
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{3, 6, 48}));
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    const std::int64_t n = static_cast<std::int64_t>(prompts[b].size());
    const at::Tensor alone = encoder.encode_padded(prompts[b], attention);  // [1, 8, 48]
    EXPECT_TRUE(at::allclose(out[b].slice(0, 0, n), alone[0].slice(0, 0, n), 1e-5, 1e-5))
        << "prompt " << b << " differs by " << (out[b].slice(0, 0, n) - alone[0].slice(0, 0, n)).abs().max().item<double>();
    EXPECT_EQ(out[b].slice(0, n).abs().sum().item<double>(), 0.0) << "prompt " << b;
  }
}

// A minimal valid config; tests replace one line to break it.
const char* kValidConfig = R"(name: test-model
space: pixel
dit:
  depth: 2
  width: 64
  heads: 2
  head_dim: 32
  ffn_dim: 128
  patch: [1, 2, 2]
  in_channels: 3
  out_channels: 3
  text_dim: 48
  text_length: 6
text_encoder:
  layers: 1
  width: 48
  heads: 2
  ffn_dim: 96
  vocab: vocab.txt
weights: random
seed: 3
)";

std::string replaced(const std::string& from, const std::string& to) {
  std::string text = kValidConfig;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

std::string config_error(const std::string& yaml) {
  try {
    parse_model_config(yaml, "bad.yaml", "/models");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelConfig, ParsesAValidConfig) {
  const ModelConfig config = parse_model_config(kValidConfig, "good.yaml", "/models");
  EXPECT_EQ(config.name, "test-model");
  EXPECT_EQ(config.dit.patch.h, 2);
  EXPECT_EQ(config.text_encoder.vocab_path, "/models/vocab.txt");
  EXPECT_TRUE(config.random_weights);
  EXPECT_EQ(config.random_seed, 3u);
  EXPECT_EQ(config.dit_attention_layers(), 4);
}

TEST(ModelConfig, UnknownKeyNamesFileLineAndKey) {
  const std::string message = config_error(replaced("  ffn_dim: 128\n", "  ffn_dim: 128\n  depht: 3\n"));
  EXPECT_NE(message.find("bad.yaml:9"), std::string::npos) << message;
  EXPECT_NE(message.find("dit.depht"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key"), std::string::npos) << message;
  const std::string top = config_error(std::string(kValidConfig) + "colour: red\n");
  EXPECT_NE(top.find("colour: unknown key"), std::string::npos) << top;
}

TEST(ModelConfig, PredictionIsVelocityUnlessTheConfigSaysSample) {
  EXPECT_EQ(parse_model_config(kValidConfig, "good.yaml", "/models").prediction, Prediction::kVelocity);
  const std::string sample = std::string(kValidConfig) + "prediction: sample\n";
  EXPECT_EQ(parse_model_config(sample, "good.yaml", "/models").prediction, Prediction::kSample);
  const std::string message = config_error(std::string(kValidConfig) + "prediction: epsilon\n");
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("prediction: 'epsilon' is not one of: velocity, sample"), std::string::npos) << message;
}

TEST(Prediction, SampleOutputBecomesTheVelocityOfTheFlow) {
  // x_t = (1 - t) x0 + t noise; a model that returns x0 exactly must give noise - x0.
  const at::Tensor x0 = at::randn({2, 3, 1, 4, 4});
  const at::Tensor noise = at::randn({2, 3, 1, 4, 4});
  const at::Tensor t = at::tensor({0.7f, 0.3f}).view({2, 1, 1, 1, 1});
  const at::Tensor x_t = (1 - t) * x0 + t * noise;
  EXPECT_TRUE(at::allclose(models::velocity_from_output(x0, x_t, t, Prediction::kSample), noise - x0,
                           1e-5, 1e-5));
  // A velocity model's output passes through untouched.
  EXPECT_TRUE(at::equal(models::velocity_from_output(noise, x_t, t, Prediction::kVelocity), noise));
  // Near t = 0 the division stops at kMinSampleNoiseLevel instead of blowing up.
  const at::Tensor tiny = at::full({1}, 1e-6f);
  const at::Tensor v = models::velocity_from_output(at::zeros({1}), at::ones({1}), tiny, Prediction::kSample);
  EXPECT_NEAR(v.item<float>(), 1.0 / models::kMinSampleNoiseLevel, 1e-3);
}

TEST(ModelConfig, MissingKeyNamesFileAndKey) {
  const std::string message = config_error(replaced("  width: 64\n", ""));
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("dit.width: missing required key"), std::string::npos) << message;
  const std::string seed = config_error(replaced("seed: 3\n", ""));
  EXPECT_NE(seed.find("seed: missing required key"), std::string::npos) << seed;
}

TEST(ModelConfig, BadValuesAreNamed) {
  EXPECT_NE(config_error(replaced("heads: 2\n  head_dim", "heads: 3\n  head_dim"))
                .find("dit.width: width 64 != heads 3 * head_dim 32"),
            std::string::npos);
  EXPECT_NE(config_error(replaced("patch: [1, 2, 2]", "patch: [1, 2]")).find("dit.patch"),
            std::string::npos);
  EXPECT_NE(config_error(replaced("depth: 2", "depth: two")).find("dit.depth: expected an integer"),
            std::string::npos);
  EXPECT_NE(config_error(replaced("space: pixel", "space: voxel")).find("space: 'voxel'"),
            std::string::npos);
  EXPECT_NE(config_error("name: [").find("bad.yaml:1: YAML syntax error"), std::string::npos);
}

TEST(ModelConfig, ShippedConfigsLoad) {
  for (const char* name : {"sagegen-tiny", "wan2.1-1.3b-shape", "flux-shape-joint"}) {
    const ModelConfig config = load_model_config(std::string(SAGEGEN_SOURCE_DIR) +
                                                 "/configs/models/" + name + ".yaml");
    EXPECT_EQ(config.name, name);
    EXPECT_TRUE(std::ifstream(config.text_encoder.vocab_path).good()) << config.text_encoder.vocab_path;
    if (!config.table.empty()) {
      EXPECT_TRUE(std::ifstream(config.table).good()) << config.table;
    }
  }
}

}  // namespace
}  // namespace sagegen
