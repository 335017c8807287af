// Parity with transformers: the tiny UMT5 text encoder of the Wan fixture folder, loaded through
// the folder reader, against UMT5EncoderModel's last_hidden_state on the same ids and mask
// (two prompts, the second padded), and the text_encoder/config.json errors.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "sagegen/attention_context.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/umt5_text_encoder.h"
#include "sagegen/errors.h"
#include "sagegen/io/safetensors.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

TEST(WanParity, Umt5EncoderMatchesTransformers) {
  c10::InferenceMode inference;
  const diffusers::DiffusersFolder folder =
      diffusers::read_diffusers_folder(testing::wan_tiny_folder());
  auto encoder = diffusers::load_umt5_encoder(folder.require("text_encoder").dir,
                                              at::TensorOptions().dtype(at::kFloat));
  const io::NamedTensors ref = testing::wan_reference("text_encoder");
  // As in the pipeline: the text encoder's layers follow the DiT's 2 * depth ids (tiny: 4).
  AttentionContext attention(4);
  const at::Tensor out = encoder->forward(ref.at("input_ids").to(at::kLong),
                                          ref.at("attention_mask"), attention, 4);
  const at::Tensor expected = ref.at("last_hidden_state");
  ASSERT_EQ(out.sizes(), expected.sizes());
  const double error = testing::relative_max_error(out, expected);
  std::printf("UMT5 encoder vs transformers: max abs error %.3g, relative to max |out| %.3g\n",
              (out - expected).abs().max().item<double>(), error);
  EXPECT_LE(error, 1e-4);
  EXPECT_EQ(attention.call_counts().at("fp16"), encoder->config().num_layers);
}

TEST(WanParity, RelativePositionBucketsFollowT5) {
  // 32 buckets, max distance 128 (umT5-XXL): 16 per direction, exact below 8.
  const at::Tensor b = models::relative_position_buckets(1, 200, 32, 128)[0];
  EXPECT_EQ(b[0].item<int64_t>(), 0);
  EXPECT_EQ(b[7].item<int64_t>(), 16 + 7);    // key 7 after the query: upper half, exact
  EXPECT_EQ(b[199].item<int64_t>(), 16 + 15);  // beyond max_distance: the last bin
  const at::Tensor back = models::relative_position_buckets(200, 1, 32, 128).squeeze(1);
  EXPECT_EQ(back[7].item<int64_t>(), 7);  // key 7 before the query: lower half
  EXPECT_EQ(back[199].item<int64_t>(), 15);
}

TEST(WanParity, Umt5TokenEmbeddingLoadsUnderEitherTiedName) {
  c10::InferenceMode inference;
  const auto source = testing::wan_tiny_folder() / "text_encoder";
  const io::NamedTensors weights =
      io::SafetensorsFile::open(source / "model.safetensors").read_all();
  const at::Tensor embedding = weights.at("shared.weight");
  for (const bool keep_shared : {false, true}) {
    testing::TempDir dir;
    std::filesystem::copy_file(source / "config.json", dir.path() / "config.json");
    io::NamedTensors renamed = weights;
    if (!keep_shared) renamed.erase("shared.weight");
    renamed["encoder.embed_tokens.weight"] = embedding;
    io::save_safetensors(dir.path() / "model.safetensors", renamed);
    auto encoder = diffusers::load_umt5_encoder(dir.path(), at::TensorOptions());
    EXPECT_TRUE(at::equal(encoder->shared->weight, embedding)) << keep_shared;
  }
}

std::string umt5_config_error(const std::string& key, const nlohmann::json& value) {
  std::ifstream in(testing::wan_tiny_folder() / "text_encoder" / "config.json");
  nlohmann::json json = nlohmann::json::parse(in);
  json[key] = value;
  testing::TempDir dir;
  std::ofstream(dir.path() / "config.json") << json.dump(2);
  try {
    diffusers::read_umt5_config(dir.path() / "config.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Umt5ConfigJson, UnsupportedValuesNameFileAndKey) {
  EXPECT_EQ(umt5_config_error("dropout_rate", 0.1), "");
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"model_type", "t5"},
           {"feed_forward_proj", "relu"},
           {"dense_act_fn", "relu"},
           {"is_decoder", true},
           {"architectures", {"UMT5ForConditionalGeneration"}},
           {"d_model", 0},
           {"relative_attention_num_buckets", 6},
           {"new_key", 1},
       }) {
    const std::string message = umt5_config_error(key, value);
    EXPECT_NE(message.find("config.json: " + key + ":"), std::string::npos)
        << key << " -> " << message;
  }
}

}  // namespace
}  // namespace sagegen
