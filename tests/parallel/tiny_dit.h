// The small random DiT the sequence-parallel tests run, shared by the test process (one rank)
// and the worker processes (N ranks) so both build the same weights from the same seed.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>

#include "sagegen/model_config.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/models/weights.h"

namespace sagegen::testing {

inline DitConfig tiny_parallel_dit(int heads, bool joint) {
  DitConfig c;
  c.depth = 2;
  c.heads = heads;
  c.head_dim = 16;
  c.width = heads * c.head_dim;
  c.ffn_dim = 64;
  c.patch = Extent3{1, 2, 2};
  c.in_channels = 3;
  c.out_channels = 3;
  c.text_dim = 24;
  c.text_length = 5;
  c.freq_dim = 32;
  c.conditioning = joint ? TextConditioning::kJointAttention : TextConditioning::kCrossAttention;
  return c;
}

inline std::shared_ptr<models::WanTransformer3DModel> tiny_random_dit(const DitConfig& config) {
  auto dit = std::make_shared<models::WanTransformer3DModel>(config, at::TensorOptions());
  std::map<std::string, at::Tensor> params;
  models::collect_parameters(*dit, "", params);
  models::init_random(params, 11);
  return dit;
}

struct TinyDitInputs {
  at::Tensor x, timestep, text;
};

// frames x height x width pixels (height, width even: the patch is 2x2), batch 2 as with CFG.
inline TinyDitInputs tiny_dit_inputs(const DitConfig& config, int frames, int height, int width) {
  at::Generator generator = at::detail::createCPUGenerator(5);
  return TinyDitInputs{
      at::randn({2, config.in_channels, frames, height, width}, generator),
      at::tensor({700.0f, 700.0f}),
      at::randn({2, config.text_length, config.text_dim}, generator)};
}

}  // namespace sagegen::testing
