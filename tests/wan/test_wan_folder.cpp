// Reading a Wan2.1 diffusers folder: model_index.json, transformer/config.json (strict: unknown
// and unsupported values name the file and key), sharded safetensors with their index, weights
// in float32/bfloat16/float16, and the errors of broken folders (missing shard, truncated file,
// index and shards that disagree, another pipeline class).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/temp_dir.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/wan_transformer.h"
#include "sagegen/errors.h"
#include "sagegen/io/safetensors.h"
#include "sagegen/io/safetensors_index.h"
#include "sagegen/models/weights.h"
#include "sagegen/pipeline.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

using testing::config_error;
using testing::read_json_file;
using testing::TempDir;
using testing::wan_tiny_folder;

void write_json_file(const std::filesystem::path& path, const nlohmann::json& json) {
  std::ofstream(path) << json.dump(2);
}

TEST(DiffusersFolder, ReadsTheTinyWanFolder) {
  ASSERT_TRUE(diffusers::is_diffusers_folder(wan_tiny_folder()));
  EXPECT_FALSE(diffusers::is_diffusers_folder(wan_tiny_folder() / "transformer"));
  const diffusers::DiffusersFolder folder = diffusers::read_diffusers_folder(wan_tiny_folder());
  EXPECT_EQ(folder.pipeline_class, "WanPipeline");
  EXPECT_EQ(folder.require("transformer").class_name, "WanTransformer3DModel");
  EXPECT_EQ(folder.require("transformer").dir, wan_tiny_folder() / "transformer");
  EXPECT_EQ(folder.require("scheduler").class_name, "UniPCMultistepScheduler");
  EXPECT_EQ(folder.require("text_encoder").library, "transformers");
  EXPECT_EQ(folder.require("vae").class_name, "AutoencoderKLWan");
  EXPECT_EQ(folder.require("tokenizer").class_name, "T5Tokenizer");
  EXPECT_FALSE(folder.components.at("transformer_2").present());
  // Asking for an absent component names the file and the component.
  const std::string message = config_error([&] { folder.require("transformer_2"); });
  EXPECT_NE(message.find("model_index.json: transformer_2:"), std::string::npos) << message;
}

// A copy of the tiny folder whose model_index.json has `key` = `value`; the read's error.
std::string model_index_error(const std::string& key, const nlohmann::json& value) {
  TempDir dir;
  const auto root = dir.path() / "wan";
  testing::copy_tree(wan_tiny_folder(), root);
  nlohmann::json index = read_json_file(root / "model_index.json");
  index[key] = value;
  write_json_file(root / "model_index.json", index);
  return config_error([&] { diffusers::read_diffusers_folder(root); });
}

TEST(DiffusersFolder, BadModelIndexNamesFileAndKey) {
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"_class_name", "StableDiffusionPipeline"},
      {"transformer_2", {"diffusers", "WanTransformer3DModel"}},
      {"boundary_ratio", 0.875},
      {"expand_timesteps", true},
      {"vae", {"diffusers", "AutoencoderKL"}},
      {"transformer", "WanTransformer3DModel"},
      {"transformer", {nullptr, nullptr}},
      {"image_encoder", {"transformers", "CLIPVisionModel"}},
  };
  for (const auto& [key, value] : cases) {
    const std::string message = model_index_error(key, value);
    EXPECT_NE(message.find("model_index.json: " + key + ":"), std::string::npos)
        << key << " -> " << message;
  }
}

TEST(DiffusersFolder, TheHubsWan21ModelIndexReads) {
  // Wan2.1-T2V-1.3B-Diffusers' model_index.json (diffusers 0.33.0.dev0: no Wan2.2 keys).
  TempDir dir;
  const auto root = dir.path() / "wan";
  testing::copy_tree(wan_tiny_folder(), root);
  std::filesystem::create_directory(root / "tokenizer");
  write_json_file(root / "model_index.json",
                  {{"_class_name", "WanPipeline"},
                   {"_diffusers_version", "0.33.0.dev0"},
                   {"scheduler", {"diffusers", "UniPCMultistepScheduler"}},
                   {"text_encoder", {"transformers", "UMT5EncoderModel"}},
                   {"tokenizer", {"transformers", "T5TokenizerFast"}},
                   {"transformer", {"diffusers", "WanTransformer3DModel"}},
                   {"vae", {"diffusers", "AutoencoderKLWan"}}});
  const diffusers::DiffusersFolder folder = diffusers::read_diffusers_folder(root);
  EXPECT_EQ(folder.require("tokenizer").class_name, "T5TokenizerFast");
  EXPECT_FALSE(folder.components.at("transformer_2").present());
}

TEST(DiffusersFolder, MissingComponentFolderIsNamed) {
  TempDir dir;
  const auto root = dir.path() / "wan";
  testing::copy_tree(wan_tiny_folder(), root);
  testing::remove_tree(root / "vae");
  const std::string message = config_error([&] { diffusers::read_diffusers_folder(root); });
  EXPECT_NE(message.find("model_index.json: vae: the folder"), std::string::npos) << message;
  EXPECT_NE(config_error([&] { diffusers::read_diffusers_folder(dir.path() / "nowhere"); })
                .find("not a folder"),
            std::string::npos);
}

TEST(WanTransformerConfig, ReadsTheTinyConfig) {
  const DitConfig c =
      diffusers::read_wan_transformer_config(wan_tiny_folder() / "transformer" / "config.json");
  EXPECT_EQ(c.depth, 2);
  EXPECT_EQ(c.heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.width, 32);
  EXPECT_EQ(c.ffn_dim, 32);
  EXPECT_EQ(c.in_channels, 16);
  EXPECT_EQ(c.out_channels, 16);
  EXPECT_EQ(c.text_dim, 32);
  EXPECT_EQ(c.freq_dim, 256);
  EXPECT_EQ(c.patch.t, 1);
  EXPECT_EQ(c.patch.h, 2);
  EXPECT_EQ(c.patch.w, 2);
  EXPECT_EQ(c.rope_max_positions, 32);
  EXPECT_DOUBLE_EQ(c.eps, 1e-6);
  EXPECT_EQ(c.text_length, 512);
}

// The tiny config with `key` = `value` written to a temp file; the read's error ("" if none).
std::string transformer_config_error(const std::string& key, const nlohmann::json& value) {
  nlohmann::json json = read_json_file(wan_tiny_folder() / "transformer" / "config.json");
  if (value.is_discarded()) {
    json.erase(key);
  } else {
    json[key] = value;
  }
  TempDir dir;
  write_json_file(dir.path() / "config.json", json);
  try {
    diffusers::read_wan_transformer_config(dir.path() / "config.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(WanTransformerConfig, UnsupportedValuesNameFileAndKey) {
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"_class_name", "WanVACETransformer3DModel"},
      {"image_dim", 1280},
      {"added_kv_proj_dim", 5120},
      {"cross_attn_norm", false},
      {"qk_norm", "rms_norm"},
      {"attention_head_dim", 7},
      {"num_layers", "thirty"},
      {"patch_size", {1, 2}},
      {"eps", 0},
      {"num_atention_heads", 12},
  };
  for (const auto& [key, value] : cases) {
    const std::string message = transformer_config_error(key, value);
    EXPECT_NE(message.find("config.json: " + key + ":"), std::string::npos)
        << key << " -> " << message;
  }
  // Left out: diffusers' default. out_channels null: in_channels.
  EXPECT_EQ(transformer_config_error("rope_max_seq_len", nlohmann::json::value_t::discarded), "");
  EXPECT_EQ(transformer_config_error("out_channels", nullptr), "");
}

TEST(WanTransformerConfig, The14BConfigReads) {
  // Wan2.1-T2V-14B-Diffusers' transformer/config.json (dims only; no weights here).
  const nlohmann::json json = {
      {"_class_name", "WanTransformer3DModel"}, {"_diffusers_version", "0.33.0.dev0"},
      {"added_kv_proj_dim", nullptr},           {"attention_head_dim", 128},
      {"cross_attn_norm", true},                {"eps", 1e-06},
      {"ffn_dim", 13824},                       {"freq_dim", 256},
      {"image_dim", nullptr},                   {"in_channels", 16},
      {"num_attention_heads", 40},              {"num_layers", 40},
      {"out_channels", 16},                     {"patch_size", {1, 2, 2}},
      {"qk_norm", "rms_norm_across_heads"},     {"rope_max_seq_len", 1024},
      {"text_dim", 4096}};
  TempDir dir;
  write_json_file(dir.path() / "config.json", json);
  const DitConfig c = diffusers::read_wan_transformer_config(dir.path() / "config.json");
  EXPECT_EQ(c.width, 5120);
  EXPECT_EQ(c.depth, 40);
  EXPECT_EQ(c.ffn_dim, 13824);
  // The model's parameters have the 14B checkpoint's shapes (meta device: no memory).
  models::WanTransformer3DModel model(c, at::TensorOptions().device(at::kMeta));
  std::int64_t count = 0;
  for (const auto& p : model.parameters()) count += p.numel();
  EXPECT_EQ(count, 14288491584);  // Wan2.1-T2V-14B: 14.29B DiT parameters
}

// The tiny transformer's weights as diffusers wrote them (float32), one name -> tensor map.
io::NamedTensors tiny_weights() {
  io::NamedTensors all;
  for (const auto& entry : std::filesystem::directory_iterator(wan_tiny_folder() / "transformer")) {
    if (entry.path().extension() == ".safetensors") {
      for (auto& [name, t] : io::SafetensorsFile::open(entry.path()).read_all()) all[name] = t;
    }
  }
  return all;
}

TEST(WanTransformerWeights, ShardedFolderLoadsEveryTensor) {
  const io::NamedTensors files = tiny_weights();
  auto model = diffusers::load_wan_transformer(wan_tiny_folder() / "transformer",
                                               at::TensorOptions().dtype(at::kFloat));
  std::map<std::string, at::Tensor> params;
  models::collect_parameters(*model, "", params);
  ASSERT_EQ(params.size(), files.size());
  for (const auto& [name, t] : params) {
    ASSERT_TRUE(files.count(name)) << name;
    EXPECT_TRUE(at::equal(t, files.at(name))) << name;
  }
}

TEST(WanTransformerWeights, HalfAndBFloatFilesLoadConverted) {
  for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    TempDir dir;
    std::filesystem::copy_file(wan_tiny_folder() / "transformer" / "config.json",
                               dir.path() / "config.json");
    io::NamedTensors converted;
    for (const auto& [name, t] : tiny_weights()) converted[name] = t.to(dtype);
    io::save_safetensors(dir.path() / "diffusion_pytorch_model.safetensors", converted);
    // Into a float32 model, and into a model of the files' own dtype.
    for (const at::ScalarType model_dtype : {at::kFloat, dtype}) {
      auto model = diffusers::load_wan_transformer(dir.path(),
                                                   at::TensorOptions().dtype(model_dtype));
      std::map<std::string, at::Tensor> params;
      models::collect_parameters(*model, "", params);
      for (const auto& [name, t] : params) {
        ASSERT_EQ(t.scalar_type(), model_dtype);
        EXPECT_TRUE(at::equal(t.to(dtype), converted.at(name))) << name;
      }
    }
  }
}

// A copy of the tiny transformer folder to break.
struct BrokenTransformer {
  TempDir dir;
  std::filesystem::path root = dir.path() / "transformer";
  std::filesystem::path index = root / "diffusion_pytorch_model.safetensors.index.json";
  BrokenTransformer() { testing::copy_tree(wan_tiny_folder() / "transformer", root); }
  std::string load_error() const {
    return config_error(
        [&] { diffusers::load_wan_transformer(root, at::TensorOptions().dtype(at::kFloat)); });
  }
};

TEST(WanTransformerWeights, MissingShardIsNamed) {
  BrokenTransformer t;
  std::filesystem::remove(t.root / "diffusion_pytorch_model-00002-of-00002.safetensors");
  const std::string message = t.load_error();
  EXPECT_NE(message.find("index.json: shard 'diffusion_pytorch_model-00002-of-00002."
                         "safetensors' is missing"),
            std::string::npos)
      << message;
}

TEST(WanTransformerWeights, TruncatedShardIsNamed) {
  BrokenTransformer t;
  const auto shard = t.root / "diffusion_pytorch_model-00001-of-00002.safetensors";
  const std::string bytes = testing::read_bytes(shard);
  testing::write_bytes(shard, bytes.substr(0, bytes.size() - 100));
  const std::string message = t.load_error();
  EXPECT_NE(message.find("diffusion_pytorch_model-00001-of-00002.safetensors"), std::string::npos)
      << message;
}

TEST(WanTransformerWeights, IndexThatDisagreesWithShardsIsNamed) {
  BrokenTransformer t;
  nlohmann::json index = read_json_file(t.index);
  auto& map = index["weight_map"];
  const std::string moved = "proj_out.weight";
  const std::string shard = map[moved];
  map[moved] = shard.find("00001") != std::string::npos
                   ? "diffusion_pytorch_model-00002-of-00002.safetensors"
                   : "diffusion_pytorch_model-00001-of-00002.safetensors";
  map.erase("scale_shift_table");
  write_json_file(t.index, index);
  const std::string message = t.load_error();
  EXPECT_NE(message.find("tensor 'proj_out.weight' is in shard " + shard), std::string::npos)
      << message;
  EXPECT_NE(message.find("tensor 'scale_shift_table' of shard"), std::string::npos) << message;
}

TEST(WanTransformerWeights, ShardOutsideTheFolderIsRefused) {
  BrokenTransformer t;
  nlohmann::json index = read_json_file(t.index);
  index["weight_map"]["proj_out.weight"] = "../elsewhere.safetensors";
  write_json_file(t.index, index);
  const std::string message = t.load_error();
  EXPECT_NE(message.find("weight_map: proj_out.weight: shard '../elsewhere.safetensors' must be a "
                         "file name in the index's folder"),
            std::string::npos)
      << message;
}

TEST(WanTransformerWeights, TensorInTwoShardsIsNamed) {
  BrokenTransformer t;
  const auto first = t.root / "diffusion_pytorch_model-00001-of-00002.safetensors";
  const auto second = t.root / "diffusion_pytorch_model-00002-of-00002.safetensors";
  io::NamedTensors first_tensors = io::SafetensorsFile::open(first).read_all();
  const io::NamedTensors second_tensors = io::SafetensorsFile::open(second).read_all();
  const std::string duplicated = second_tensors.begin()->first;
  first_tensors[duplicated] = second_tensors.begin()->second;
  io::save_safetensors(first, first_tensors);
  const std::string message = t.load_error();
  EXPECT_NE(message.find("tensor '" + duplicated + "' is in shard "
                         "diffusion_pytorch_model-00001-of-00002.safetensors, the index says "
                         "diffusion_pytorch_model-00002-of-00002.safetensors"),
            std::string::npos)
      << message;
}

TEST(WanTransformerWeights, MisShapedConfigNamesTheTensors) {
  BrokenTransformer t;
  nlohmann::json config = read_json_file(t.root / "config.json");
  config["ffn_dim"] = 40;
  write_json_file(t.root / "config.json", config);
  const std::string message = t.load_error();
  EXPECT_NE(message.find("tensor 'blocks.0.ffn.net.0.proj.weight' has shape [32, 32] in the file, "
                         "the model expects [40, 32]"),
            std::string::npos)
      << message;
}

TEST(WanTransformerWeights, NoWeightsIsNamed) {
  TempDir dir;
  std::filesystem::copy_file(wan_tiny_folder() / "transformer" / "config.json",
                             dir.path() / "config.json");
  testing::write_bytes(dir.path() / "diffusion_pytorch_model.bin", "pickle");
  const std::string message = config_error(
      [&] { diffusers::load_wan_transformer(dir.path(), at::TensorOptions()); });
  EXPECT_NE(message.find("no weights: expected diffusion_pytorch_model.safetensors or "
                         "diffusion_pytorch_model.safetensors.index.json"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("PyTorch pickles"), std::string::npos) << message;
}

}  // namespace
}  // namespace sagegen
