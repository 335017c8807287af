// diffusers `Attention` as Wan2.1 configures it: to_q/to_k/to_v/to_out.0 with biases and
// RMS-normed Q and K over all heads (norm_q, norm_k). The attention itself runs through the
// AttentionContext, which picks the precision for (layer, step).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>

#include "sagegen/attention_context.h"
#include "sagegen/models/layers.h"
#include "sagegen/models/rope.h"
#include "sagegen/parallel/ulysses.h"

namespace sagegen::models {

class WanAttention : public torch::nn::Module {
 public:
  // qk_norm: Wan's blocks use it; the text encoder does not.
  WanAttention(int width, int heads, double eps, bool qk_norm, const at::TensorOptions& options);

  // x: [B, L, C]. context: [B, L_k, C] for cross-attention, undefined for self-attention.
  // rope: applied to Q and K (self-attention only); nullptr for none.
  // key_bias: added to the scores, broadcast to [B, H, L, L_k] (-inf hides a padded key); the
  // call then runs fp16 (AttentionContext::attend_with_bias). Undefined for none.
  // ulysses: x is this rank's shard of the sequence; self-attention then runs over the whole
  // sequence for this rank's heads (parallel/ulysses.h); cross-attention stays local. Not with
  // a key_bias (the text encoder's, which runs on every rank whole).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context, const RopeTables* rope,
                     AttentionContext& attention, int layer_id,
                     const at::Tensor& key_bias = at::Tensor(),
                     const parallel::UlyssesAttention* ulysses = nullptr) const;

  int heads;
  std::shared_ptr<Linear> to_q, to_k, to_v, to_out;  // to_out is `to_out.0`
  std::shared_ptr<RmsNorm> norm_q, norm_k;           // null without qk_norm
};

}  // namespace sagegen::models
