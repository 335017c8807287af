// Parity with diffusers: the tiny Wan2.1 transformer loaded from its diffusers folder (sharded
// safetensors, config.json) through the loader a user's folder goes through, run in float32 on
// the CPU, against WanTransformer3DModel's output on the same inputs (tests/data/wan-tiny,
// scripts/wan_parity/make_fixtures.py). Bound: max abs error <= 1e-4 of the output's scale.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "sagegen/attention_context.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/wan_transformer.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

constexpr double kParityBound = 1e-4;  // the float32 bound, relative to max |reference|

TEST(WanParity, TransformerMatchesDiffusers) {
  c10::InferenceMode inference;
  const diffusers::DiffusersFolder folder =
      diffusers::read_diffusers_folder(testing::wan_tiny_folder());
  auto model = diffusers::load_wan_transformer(folder.require("transformer").dir,
                                               at::TensorOptions().dtype(at::kFloat));
  const io::NamedTensors ref = testing::wan_reference("transformer");
  // Full precision attention (torch SDPA in float32 on the CPU), as diffusers runs it.
  AttentionContext attention(2 * model->config().depth, sageattn::Variant::kFp16);
  const at::Tensor out = model->forward(ref.at("hidden_states"),
                                        ref.at("timestep").to(at::kFloat),
                                        ref.at("encoder_hidden_states"), attention);
  const at::Tensor expected = ref.at("output");
  ASSERT_EQ(out.sizes(), expected.sizes());
  const double error = testing::relative_max_error(out, expected);
  std::printf("Wan transformer vs diffusers: max abs error %.3g, relative to max |out| %.3g\n",
              (out - expected).abs().max().item<double>(), error);
  EXPECT_LE(error, kParityBound);
  // Each sample of the batch sees its own timestep: the two outputs differ.
  EXPECT_FALSE(at::allclose(out[0], out[1]));
}

TEST(WanParity, TooManyPatchesForTheRopeTableIsAnError) {
  c10::InferenceMode inference;
  auto model = diffusers::load_wan_transformer(testing::wan_tiny_folder() / "transformer",
                                               at::TensorOptions().dtype(at::kFloat));
  AttentionContext attention(2 * model->config().depth, sageattn::Variant::kFp16);
  // rope_max_seq_len 32: 33 frames are one too many.
  const at::Tensor x = at::zeros({1, 16, 33, 2, 2});
  const at::Tensor text = at::zeros({1, 3, 32});
  EXPECT_THROW(model->forward(x, at::zeros({1}), text, attention), c10::Error);
}

}  // namespace
}  // namespace sagegen
