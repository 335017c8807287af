// Random-weight Wan2.1 folders (diffusers::write_random_wan_folder, sagegen_random_folder): the
// tensors written from the configs carry the names diffusers wrote for the same configs (the
// tiny fixture), shard like save_pretrained's, load through the loader a downloaded folder goes
// through and run the whole pipeline with per-stage timings; the real-size skeleton under
// configs/diffusers/ reads as the 1.3B model.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/temp_dir.h"
#include "sagegen/diffusers/component_weights.h"
#include "sagegen/diffusers/random_folder.h"
#include "sagegen/diffusers/umt5_text_encoder.h"
#include "sagegen/diffusers/wan_transformer.h"
#include "sagegen/diffusers/wan_vae.h"
#include "sagegen/errors.h"
#include "sagegen/io/safetensors.h"
#include "sagegen/io/safetensors_index.h"
#include "sagegen/models/umt5_encoder.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/models/weights.h"
#include "sagegen/pipeline.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

namespace fs = std::filesystem;
using testing::config_error;
using testing::read_json_file;
using testing::TempDir;
using testing::wan_tiny_folder;

bool is_vae_encoder_tensor(const std::string& name) {
  return name.rfind("encoder.", 0) == 0 || name.rfind("quant_conv.", 0) == 0;
}

// Small shards (a few kB) so the tiny transformer, text encoder and VAE are written in several.
diffusers::RandomFolderOptions tiny_options() {
  diffusers::RandomFolderOptions options;
  options.max_shard_bytes = 40'000;
  options.seed = 3;
  return options;
}

TEST(RandomWanFolder, WritesTheTensorsDiffusersWroteForTheSameConfigs) {
  TempDir dir;
  const fs::path out = dir.path() / "Wan2.1-T2V-tiny-random";
  diffusers::write_random_wan_folder(wan_tiny_folder(), out, tiny_options());

  for (const char* file : {"model_index.json", "transformer/config.json", "text_encoder/config.json",
                           "vae/config.json", "scheduler/scheduler_config.json",
                           "tokenizer/spiece.model", "tokenizer/tokenizer_config.json"}) {
    EXPECT_TRUE(fs::is_regular_file(out / file)) << file;
  }
  // Sharded with an index, as save_pretrained writes components over its max_shard_size.
  const nlohmann::json index =
      read_json_file(out / "transformer" / "diffusion_pytorch_model.safetensors.index.json");
  std::set<std::string> shard_files;
  for (const auto& item : index["weight_map"].items()) shard_files.insert(item.value());
  EXPECT_GE(shard_files.size(), 3u);
  EXPECT_TRUE(shard_files.count("diffusion_pytorch_model-00001-of-0000" +
                                std::to_string(shard_files.size()) + ".safetensors"));
  EXPECT_GT(index["metadata"]["total_size"].get<std::int64_t>(), 0);
  EXPECT_TRUE(fs::is_regular_file(out / "text_encoder" / "model.safetensors.index.json"));
  const nlohmann::json vae_index =
      read_json_file(out / "vae" / "diffusion_pytorch_model.safetensors.index.json");
  std::set<std::string> vae_shards;
  for (const auto& item : vae_index["weight_map"].items()) vae_shards.insert(item.value());
  EXPECT_GE(vae_shards.size(), 2u);

  // The names and shapes diffusers and transformers wrote for these configs: every tensor of
  // the fixture's transformer and text encoder, the VAE's decoder tensors (the encoder's are
  // never read, so not written).
  const auto names = [](const fs::path& component, const std::string& base) {
    return diffusers::component_tensor_names(component, base);
  };
  EXPECT_EQ(names(out / "transformer", "diffusion_pytorch_model"),
            names(wan_tiny_folder() / "transformer", "diffusion_pytorch_model"));
  EXPECT_EQ(names(out / "text_encoder", "model"), names(wan_tiny_folder() / "text_encoder", "model"));
  std::set<std::string> decoder_names;
  for (const std::string& name : names(wan_tiny_folder() / "vae", "diffusion_pytorch_model")) {
    if (!is_vae_encoder_tensor(name)) decoder_names.insert(name);
  }
  EXPECT_EQ(names(out / "vae", "diffusion_pytorch_model"), decoder_names);
  const io::SafetensorsFile fixture_vae =
      io::SafetensorsFile::open(wan_tiny_folder() / "vae" / "diffusion_pytorch_model.safetensors");
  for (const std::string& vae_shard : vae_shards) {
    const io::SafetensorsFile random_vae = io::SafetensorsFile::open(out / "vae" / vae_shard);
    for (const io::TensorInfo& info : random_vae.tensors()) {
      ASSERT_NE(fixture_vae.find(info.name), nullptr) << info.name;
      EXPECT_EQ(info.shape, fixture_vae.find(info.name)->shape) << info.name;
      EXPECT_EQ(info.dtype, io::DType::kF32) << info.name;  // the VAE stays float32
    }
  }

  // Values: biases 0, norm weights 1, weights N(0, 1/fan_in), in the asked dtype (bfloat16).
  const std::string shard = index["weight_map"]["blocks.0.ffn.net.0.proj.weight"];
  const io::SafetensorsFile file = io::SafetensorsFile::open(out / "transformer" / shard);
  const at::Tensor weight = file.read("blocks.0.ffn.net.0.proj.weight");  // [32, 32]
  EXPECT_EQ(weight.scalar_type(), at::kBFloat16);
  EXPECT_NEAR(weight.to(at::kFloat).std().item<double>(), 1.0 / std::sqrt(32.0), 0.02);
  const std::string norm_shard = index["weight_map"]["blocks.0.attn1.norm_q.weight"];
  EXPECT_TRUE(io::SafetensorsFile::open(out / "transformer" / norm_shard)
                  .read("blocks.0.attn1.norm_q.weight")
                  .eq(1)
                  .all()
                  .item<bool>());
  const std::string bias_shard = index["weight_map"]["blocks.0.attn1.to_q.bias"];
  EXPECT_TRUE(io::SafetensorsFile::open(out / "transformer" / bias_shard)
                  .read("blocks.0.attn1.to_q.bias")
                  .eq(0)
                  .all()
                  .item<bool>());
  const std::string gamma_shard = vae_index["weight_map"]["decoder.norm_out.gamma"];
  EXPECT_TRUE(io::SafetensorsFile::open(out / "vae" / gamma_shard)
                  .read("decoder.norm_out.gamma")
                  .eq(1)
                  .all()
                  .item<bool>());
}

TEST(RandomWanFolder, LoadsAndRunsThroughThePipelineWithStageTimings) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  TempDir dir;
  const fs::path out = dir.path() / "Wan2.1-T2V-tiny-random";
  diffusers::write_random_wan_folder(wan_tiny_folder(), out, tiny_options());

  LoadOptions options;
  options.model = out.string();
  options.device = DeviceChoice::kCpu;
  GenerateRequest request;
  request.prompt = "a cat";
  request.negative_prompt = "blurry";
  request.width = 48;
  request.height = 32;
  request.frames = 5;
  request.steps = 2;
  request.cfg_scale = 5.0;
  auto pipeline = Pipeline::load(options);
  EXPECT_EQ(pipeline->model_name(), "Wan2.1-T2V-tiny-random");
  const GenerateResult result = pipeline->generate(request);
  ASSERT_EQ(result.video.sizes(), (at::IntArrayRef{5, 32, 48, 3}));
  // Random weights give noise, but not a constant picture: the layers kept their scale.
  EXPECT_GT(result.video.to(at::kFloat).std().item<double>(), 1.0);

  ASSERT_EQ(result.stages.size(), 3u);
  EXPECT_EQ(result.stages[0].name, "text encoding");
  EXPECT_EQ(result.stages[1].name, "denoising");
  EXPECT_EQ(result.stages[2].name, "VAE decoding");
  double stage_seconds = 0;
  for (const StageStats& stage : result.stages) {
    EXPECT_GT(stage.seconds, 0.0) << stage.name;
    EXPECT_FALSE(stage.measured_memory()) << stage.name << ": the CPU has no allocator peaks";
    stage_seconds += stage.seconds;
  }
  EXPECT_LE(stage_seconds, result.seconds_total + 1e-3);
  double step_seconds = 0;
  for (const double s : result.step_seconds) step_seconds += s;
  EXPECT_LE(step_seconds, result.stages[1].seconds + 1e-3);
  EXPECT_EQ(result.load.name, "loading");
  EXPECT_GT(result.load.seconds, 0.0);
}

// Laid out as the real-size skeleton is: its model_index.json (T5TokenizerFast, no Wan2.2 keys),
// no tokenizer folder; the tiny configs keep it small.
TEST(RandomWanFolder, CopiesATokenizerWhenTheSkeletonHasNone) {
  TempDir dir;
  const fs::path skeleton = dir.path() / "skeleton";
  testing::copy_tree(wan_tiny_folder(), skeleton);
  for (const char* file : {"spiece.model", "tokenizer.json", "tokenizer_config.json"}) {
    fs::remove(skeleton / "tokenizer" / file);
  }
  fs::remove(skeleton / "tokenizer");
  fs::copy_file(fs::path(SAGEGEN_SOURCE_DIR) / "configs" / "diffusers" /
                    "Wan2.1-T2V-1.3B-Diffusers" / "model_index.json",
                skeleton / "model_index.json", fs::copy_options::overwrite_existing);

  const std::string message = config_error(
      [&] { diffusers::write_random_wan_folder(skeleton, dir.path() / "a", tiny_options()); });
  EXPECT_NE(message.find("no tokenizer/spiece.model"), std::string::npos) << message;
  EXPECT_NE(message.find("--tokenizer"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir.path() / "a")) << "nothing written before the inputs are checked";

  diffusers::RandomFolderOptions options = tiny_options();
  options.tokenizer_dir = wan_tiny_folder() / "tokenizer";
  diffusers::write_random_wan_folder(skeleton, dir.path() / "b", options);
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "b" / "tokenizer" / "spiece.model"));
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "b" / "tokenizer" / "tokenizer_config.json"));
  if (SAGEGEN_WITH_SENTENCEPIECE) {  // the tokenizer loads with the rest
    LoadOptions load;
    load.model = (dir.path() / "b").string();
    load.device = DeviceChoice::kCpu;
    EXPECT_NO_THROW(Pipeline::load(load));
  }
}

TEST(RandomWanFolder, RefusesAFolderThatHoldsFiles) {
  TempDir dir;
  std::ofstream(dir.path() / "keep.txt") << "mine";
  const std::string message = config_error(
      [&] { diffusers::write_random_wan_folder(wan_tiny_folder(), dir.path(), tiny_options()); });
  EXPECT_NE(message.find("not an empty folder"), std::string::npos) << message;
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "keep.txt"));

  const std::string no_skeleton = config_error([&] {
    diffusers::write_random_wan_folder(dir.path() / "nothing", dir.path() / "out", tiny_options());
  });
  EXPECT_NE(no_skeleton.find("no model_index.json"), std::string::npos) << no_skeleton;
}

TEST(RandomWanFolder, ShardsInNameOrderAndLoadsBack) {
  TempDir dir;
  io::NamedTensors tensors;
  for (const char* name : {"a", "b", "c", "d"}) {
    tensors[name] = at::arange(100, at::kFloat) + static_cast<double>(name[0]);  // 400 bytes
  }
  // 900 bytes a shard: a, b | c, d.
  EXPECT_EQ(diffusers::save_sharded_safetensors(dir.path(), "model", tensors, 900), 2);
  const nlohmann::json index = read_json_file(dir.path() / "model.safetensors.index.json");
  EXPECT_EQ(index["metadata"]["total_size"], 1600);
  EXPECT_EQ(index["weight_map"]["a"], "model-00001-of-00002.safetensors");
  EXPECT_EQ(index["weight_map"]["b"], "model-00001-of-00002.safetensors");
  EXPECT_EQ(index["weight_map"]["c"], "model-00002-of-00002.safetensors");
  EXPECT_EQ(index["weight_map"]["d"], "model-00002-of-00002.safetensors");
  io::NamedTensors loaded;
  for (const auto& [name, tensor] : tensors) loaded[name] = at::zeros_like(tensor);
  io::load_into_sharded(loaded, dir.path() / "model.safetensors.index.json");
  for (const auto& [name, tensor] : tensors) EXPECT_TRUE(at::equal(loaded[name], tensor)) << name;

  // Within the limit: one file, no index.
  TempDir single;
  EXPECT_EQ(diffusers::save_sharded_safetensors(single.path(), "model", tensors, 1600), 1);
  EXPECT_TRUE(fs::is_regular_file(single.path() / "model.safetensors"));
  EXPECT_FALSE(fs::exists(single.path() / "model.safetensors.index.json"));
}

// The skeleton scripts/gpu_wan_realsize.sh fills: its configs read as Wan2.1-T2V-1.3B's
// components, with the parameter counts docs/wan.md states (modules made on the meta device:
// shapes without memory).
TEST(RandomWanFolder, TheRealSizeSkeletonIsTheOnePointThreeBModel) {
  const fs::path skeleton = fs::path(SAGEGEN_SOURCE_DIR) / "configs" / "diffusers" /
                            "Wan2.1-T2V-1.3B-Diffusers";
  const auto count = [](const torch::nn::Module& module) {
    std::int64_t n = 0;
    for (const at::Tensor& p : module.parameters()) n += p.numel();
    return n;
  };
  const at::TensorOptions meta = at::TensorOptions().device(at::kMeta).dtype(at::kBFloat16);
  const DitConfig dit = diffusers::read_wan_transformer_config(skeleton / "transformer" / "config.json");
  EXPECT_EQ(dit.width, 1536);
  EXPECT_EQ(dit.depth, 30);
  EXPECT_EQ(dit.heads, 12);
  EXPECT_EQ(dit.ffn_dim, 8960);
  const std::int64_t dit_parameters = count(models::WanTransformer3DModel(dit, meta));
  EXPECT_GT(dit_parameters, 1.35e9);
  EXPECT_LT(dit_parameters, 1.45e9);
  const models::Umt5Config umt5 =
      diffusers::read_umt5_config(skeleton / "text_encoder" / "config.json");
  EXPECT_EQ(umt5.vocab_size, 256384);
  EXPECT_EQ(umt5.d_model, 4096);
  EXPECT_EQ(umt5.num_layers, 24);
  const std::int64_t encoder_parameters = count(models::Umt5EncoderModel(umt5, meta));
  EXPECT_GT(encoder_parameters, 5.6e9);
  EXPECT_LT(encoder_parameters, 5.8e9);
  const models::WanVaeConfig vae = diffusers::read_wan_vae_config(skeleton / "vae" / "config.json");
  EXPECT_EQ(vae.base_dim, 96);
  EXPECT_EQ(vae.z_dim, dit.in_channels);
  const std::int64_t decoder_parameters = count(models::WanVaeDecoder(vae, meta));
  EXPECT_GT(decoder_parameters, 60e6);
  EXPECT_LT(decoder_parameters, 80e6);
  std::printf("Wan2.1-T2V-1.3B skeleton: transformer %.1fM, umT5 encoder %.1fM, VAE decoder %.1fM "
              "parameters\n",
              dit_parameters / 1e6, encoder_parameters / 1e6, decoder_parameters / 1e6);
}

}  // namespace
}  // namespace sagegen
