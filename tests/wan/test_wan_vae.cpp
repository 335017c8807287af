// Parity with diffusers: the tiny AutoencoderKLWan of the Wan fixture folder, loaded through the
// folder reader, decoding 3 latent frames to 9 video frames (chunked one latent frame at a time,
// with the causal convolutions' cache and the temporal upsamplers) against
// AutoencoderKLWan.decode; the vae/config.json and weight errors.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/wan_vae.h"
#include "sagegen/errors.h"
#include "sagegen/io/safetensors.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

std::filesystem::path vae_dir() { return testing::wan_tiny_folder() / "vae"; }

TEST(WanParity, VaeDecodeMatchesDiffusers) {
  c10::InferenceMode inference;
  const diffusers::DiffusersFolder folder =
      diffusers::read_diffusers_folder(testing::wan_tiny_folder());
  auto vae = diffusers::load_wan_vae_decoder(folder.require("vae").dir,
                                             at::TensorOptions().dtype(at::kFloat));
  const io::NamedTensors ref = testing::wan_reference("vae_decode");
  const at::Tensor video = vae->decode(ref.at("latents"));
  const at::Tensor expected = ref.at("video");
  ASSERT_EQ(video.sizes(), expected.sizes());
  EXPECT_EQ(video.size(2), vae->config().video_frames(ref.at("latents").size(2)));
  const double error = testing::relative_max_error(video, expected);
  std::printf("VAE decode vs diffusers: max abs error %.3g, relative to max |out| %.3g\n",
              (video - expected).abs().max().item<double>(), error);
  // float32 throughout; the bound.
  EXPECT_LE(error, 1e-4);
}

TEST(WanParity, VaeDecodeFramesDependOnlyOnThePast) {
  // Causality: decoding the first two latent frames gives the first 5 frames of the 3-frame
  // decode exactly, since the cache carries only earlier frames forward.
  c10::InferenceMode inference;
  auto vae = diffusers::load_wan_vae_decoder(vae_dir(), at::TensorOptions().dtype(at::kFloat));
  const at::Tensor z = testing::wan_reference("vae_decode").at("latents");
  const at::Tensor all = vae->decode(z);
  const at::Tensor prefix = vae->decode(z.slice(2, 0, 2));
  ASSERT_EQ(prefix.size(2), 5);
  EXPECT_TRUE(at::equal(prefix, all.slice(2, 0, 5)));
}

TEST(WanParity, LatentsUnnormaliseAsWanPipeline) {
  const models::WanVaeConfig config = diffusers::read_wan_vae_config(vae_dir() / "config.json");
  const at::Tensor z = at::ones({1, 16, 1, 1, 1});
  const at::Tensor out = diffusers::unnormalize_wan_latents(z, config);
  // Channel 0: 1 * 2.8184 + (-0.7571), in float32.
  EXPECT_NEAR(out[0][0].item<double>(), 2.8184 - 0.7571, 1e-6);
  EXPECT_NEAR(out[0][15].item<double>(), 1.916 - 0.2921, 1e-6);
}

std::string vae_config_error(const std::string& key, const nlohmann::json& value) {
  testing::TempDir dir;
  nlohmann::json json = nlohmann::json::parse(std::ifstream(vae_dir() / "config.json"));
  json[key] = value;
  std::ofstream(dir.path() / "config.json") << json.dump(2);
  try {
    diffusers::read_wan_vae_config(dir.path() / "config.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError for " << key;
  return "";
}

TEST(WanFolderErrors, VaeConfigValuesSagegenCannotRun) {
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, nlohmann::json>>{{"_class_name", "AutoencoderKLWan2"},
                                                           {"is_residual", true},
                                                           {"patch_size", 2},
                                                           {"scale_factor_spatial", 16},
                                                           {"scale_factor_temporal", 8},
                                                           {"temperal_downsample", {true, true}},
                                                           {"latents_std", {1.0, 2.0}},
                                                           {"clip_output", true}}) {
    const std::string message = vae_config_error(key, value);
    EXPECT_NE(message.find("config.json: " + key), std::string::npos) << key << ": " << message;
  }
}

TEST(WanFolderErrors, VaeTensorOfAnotherModelIsNamed) {
  testing::TempDir dir;
  std::filesystem::copy_file(vae_dir() / "config.json", dir.path() / "config.json");
  io::NamedTensors weights =
      io::SafetensorsFile::open(vae_dir() / "diffusion_pytorch_model.safetensors").read_all();
  weights["decoder.extra_head.weight"] = at::zeros({2});
  io::save_safetensors(dir.path() / "diffusion_pytorch_model.safetensors", weights);
  try {
    diffusers::load_wan_vae_decoder(dir.path(), at::TensorOptions());
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("decoder.extra_head.weight"), std::string::npos)
        << e.what();
  }
  weights.erase("decoder.extra_head.weight");
  weights.erase("decoder.conv_out.bias");
  io::save_safetensors(dir.path() / "diffusion_pytorch_model.safetensors", weights);
  try {
    diffusers::load_wan_vae_decoder(dir.path(), at::TensorOptions());
    ADD_FAILURE() << "no error for a missing tensor";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("decoder.conv_out.bias"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sagegen
