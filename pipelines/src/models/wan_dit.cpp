#include "sagegen/models/wan_dit.h"

#include <ATen/ATen.h>

#include <cmath>
#include <optional>
#include <string>

namespace sagegen::models {
namespace {

// Modulated LayerNorm: norm(x) * (1 + scale) + shift, in float32 as Wan does (addcmul: one
// element-wise pass over the tokens instead of two).
at::Tensor modulate(const LayerNorm& norm, const at::Tensor& x, const at::Tensor& shift,
                    const at::Tensor& scale) {
  return at::addcmul(shift, norm.forward(x), 1 + scale).to(x.scalar_type());
}

// x + y * gate in float32, returned in x's dtype. addcmul promotes the bf16 operands to the
// float32 gate's type inside its one kernel, so no float32 copies of x and y are made.
at::Tensor gated_residual(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate) {
  return at::addcmul(x, y, gate.to(at::kFloat)).to(x.scalar_type());
}

}  // namespace

at::Tensor timestep_features(const at::Tensor& timestep, int dim) {
  const int half = dim / 2;
  const at::Tensor exponent =
      at::arange(half, timestep.options().dtype(at::kFloat)) * (-std::log(10000.0) / half);
  const at::Tensor args = timestep.to(at::kFloat).unsqueeze(1) * at::exp(exponent).unsqueeze(0);
  return at::cat({at::cos(args), at::sin(args)}, -1);  // [B, dim]
}

WanConditionEmbedder::WanConditionEmbedder(const DitConfig& config,
                                           const at::TensorOptions& options)
    : freq_dim(config.freq_dim) {
  const int c = config.width;
  auto time_embedder = register_module("time_embedder", std::make_shared<ModuleContainer>());
  time_linear_1 = time_embedder->add("linear_1", std::make_shared<Linear>(freq_dim, c, options));
  time_linear_2 = time_embedder->add("linear_2", std::make_shared<Linear>(c, c, options));
  time_proj = register_module("time_proj", std::make_shared<Linear>(c, 6 * c, options));
  auto text_embedder = register_module("text_embedder", std::make_shared<ModuleContainer>());
  text_linear_1 =
      text_embedder->add("linear_1", std::make_shared<Linear>(config.text_dim, c, options));
  text_linear_2 = text_embedder->add("linear_2", std::make_shared<Linear>(c, c, options));
}

WanConditionEmbedder::Output WanConditionEmbedder::forward(const at::Tensor& timestep,
                                                           const at::Tensor& text) const {
  const at::ScalarType dtype = time_linear_1->weight.scalar_type();
  const at::Tensor features = timestep_features(timestep, freq_dim).to(dtype);
  const at::Tensor temb = time_linear_2->forward(at::silu(time_linear_1->forward(features)));
  const at::Tensor proj = time_proj->forward(at::silu(temb)).unflatten(1, {6, -1});
  const at::Tensor projected_text =
      text_linear_2->forward(at::gelu(text_linear_1->forward(text.to(dtype)), "tanh"));
  return Output{temb, proj, projected_text};
}

WanTransformerBlock::WanTransformerBlock(const DitConfig& config, int index,
                                         const at::TensorOptions& options)
    : block_index(index), joint(config.conditioning == TextConditioning::kJointAttention) {
  const int c = config.width;
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(c, config.eps, false, options));
  attn1 = register_module("attn1",
                          std::make_shared<WanAttention>(c, config.heads, config.eps, true, options));
  if (!joint) {
    attn2 = register_module(
        "attn2", std::make_shared<WanAttention>(c, config.heads, config.eps, true, options));
    norm2 = register_module("norm2", std::make_shared<LayerNorm>(c, config.eps, true, options));
  }
  ffn = register_module("ffn", std::make_shared<FeedForward>(c, config.ffn_dim, options));
  norm3 = register_module("norm3", std::make_shared<LayerNorm>(c, config.eps, false, options));
  scale_shift_table = register_parameter("scale_shift_table", at::empty({1, 6, c}, options));
}

at::Tensor WanTransformerBlock::forward(const at::Tensor& x, const at::Tensor& text,
                                        const at::Tensor& timestep_proj, const RopeTables& rope,
                                        AttentionContext& attention,
                                        const parallel::UlyssesAttention* ulysses) const {
  // Six [B, 1, C] float32 vectors: shift/scale/gate for self-attention, then for the FFN.
  const std::vector<at::Tensor> mod =
      (scale_shift_table.to(at::kFloat) + timestep_proj.to(at::kFloat)).chunk(6, 1);
  const at::ScalarType dtype = x.scalar_type();

  const at::Tensor attn_in = modulate(*norm1, x, mod[0], mod[1]);
  const at::Tensor self_out = attn1->forward(attn_in, at::Tensor(), &rope, attention,
                                             AttentionContext::self_attention_layer(block_index),
                                             at::Tensor(), ulysses);
  at::Tensor h = gated_residual(x, self_out, mod[2]);

  if (!joint) {
    const at::Tensor cross_in = norm2->forward(h).to(dtype);
    h = h + attn2->forward(cross_in, text, nullptr, attention,
                           AttentionContext::cross_attention_layer(block_index));
  }

  const at::Tensor ffn_in = modulate(*norm3, h, mod[3], mod[4]);
  const at::Tensor ffn_out = ffn->forward(ffn_in);
  return gated_residual(h, ffn_out, mod[5]);
}

WanTransformer3DModel::WanTransformer3DModel(const DitConfig& config,
                                             const at::TensorOptions& options)
    : config_(config) {
  const int c = config.width;
  auto patch_embedding = register_module("patch_embedding", std::make_shared<ModuleContainer>());
  patch_weight = patch_embedding->register_parameter(
      "weight",
      at::empty({c, config.in_channels, config.patch.t, config.patch.h, config.patch.w}, options));
  patch_bias = patch_embedding->register_parameter("bias", at::empty({c}, options));
  condition_embedder =
      register_module("condition_embedder", std::make_shared<WanConditionEmbedder>(config, options));
  auto block_list = register_module("blocks", std::make_shared<ModuleContainer>());
  for (int i = 0; i < config.depth; ++i) {
    blocks.push_back(
        block_list->add(std::to_string(i), std::make_shared<WanTransformerBlock>(config, i, options)));
  }
  norm_out = register_module("norm_out", std::make_shared<LayerNorm>(c, config.eps, false, options));
  const int patch_volume = config.patch.t * config.patch.h * config.patch.w;
  proj_out = register_module(
      "proj_out", std::make_shared<Linear>(c, config.out_channels * patch_volume, options));
  scale_shift_table = register_parameter("scale_shift_table", at::empty({1, 2, c}, options));
}

void WanTransformer3DModel::use_sequence_parallel(std::shared_ptr<parallel::ProcessGroup> group) {
  sequence_group_ = std::move(group);
}

at::Tensor WanTransformer3DModel::forward(const at::Tensor& x, const at::Tensor& timestep,
                                          const at::Tensor& text,
                                          AttentionContext& attention) const {
  const Extent3& p = config_.patch;
  TORCH_CHECK(x.dim() == 5 && x.size(1) == config_.in_channels,
              "WanTransformer3DModel: x must be [B, ", config_.in_channels, ", F, H, W], got ",
              x.sizes());
  TORCH_CHECK(x.size(2) % p.t == 0 && x.size(3) % p.h == 0 && x.size(4) % p.w == 0,
              "WanTransformer3DModel: x's F, H, W ", x.sizes().slice(2),
              " must be multiples of the patch (", p.t, ", ", p.h, ", ", p.w, ")");
  TORCH_CHECK(text.dim() == 3 && text.size(0) == x.size(0) && text.size(2) == config_.text_dim,
              "WanTransformer3DModel: text must be [", x.size(0), ", L, ", config_.text_dim,
              "], got ", text.sizes());
  const std::int64_t batch = x.size(0);
  const Extent3 grid{static_cast<int>(x.size(2) / p.t), static_cast<int>(x.size(3) / p.h),
                     static_cast<int>(x.size(4) / p.w)};
  const int max_positions = config_.rope_max_positions;
  TORCH_CHECK(max_positions == 0 || (grid.t <= max_positions && grid.h <= max_positions &&
                                     grid.w <= max_positions),
              "WanTransformer3DModel: ", grid.t, " x ", grid.h, " x ", grid.w,
              " patches exceed the model's ", max_positions, " RoPE positions per axis");
  const at::ScalarType dtype = patch_weight.scalar_type();

  // The patch embedding is a conv3d whose stride is its kernel, i.e. a linear map of each
  // patch: computed as one matmul over the patches, the same sums as the convolution (in another
  // order), without cuDNN's 3-D convolution paths for 3 input channels (slow weight gradients).
  const std::int64_t in_channels = x.size(1);
  const at::Tensor patches =
      x.to(dtype)
          .reshape({batch, in_channels, grid.t, p.t, grid.h, p.h, grid.w, p.w})
          .permute({0, 2, 4, 6, 1, 3, 5, 7})  // [B, F', H', W', C_in, pt, ph, pw]
          .reshape({batch, static_cast<std::int64_t>(grid.t) * grid.h * grid.w, -1});
  at::Tensor h = at::linear(patches, patch_weight.flatten(1), patch_bias);  // [B, F'*H'*W', C]

  const WanConditionEmbedder::Output cond = condition_embedder->forward(timestep, text);
  const bool joint = config_.conditioning == TextConditioning::kJointAttention;
  const std::int64_t text_tokens = joint ? cond.text.size(1) : 0;
  if (joint) h = at::cat({cond.text, h}, 1);  // [B, L_text + L, C]
  const std::string rope_key = std::to_string(grid.t) + "x" + std::to_string(grid.h) + "x" +
                               std::to_string(grid.w) + "+" + std::to_string(text_tokens) + "@" +
                               x.device().str();
  std::unique_lock<std::mutex> rope_lock(rope_cache_mutex_);
  auto cached = rope_cache_.find(rope_key);
  if (cached == rope_cache_.end()) {
    cached = rope_cache_
                 .emplace(rope_key, make_rope_tables(grid, config_.head_dim, config_.rope_theta,
                                                     static_cast<int>(text_tokens), x.device()))
                 .first;
  }
  RopeTables rope = cached->second;  // shares the tensors
  rope_lock.unlock();
  std::optional<parallel::UlyssesAttention> ulysses;
  if (sequence_group_ && sequence_group_->size() > 1) {
    // Every rank embeds the whole input (cheap) and keeps its shard of the tokens.
    ulysses.emplace(*sequence_group_, h.size(1));
    h = ulysses->take(h);  // [B, S, C]
    // rotation left undefined: apply_rope makes it from the shard's cos and sin.
    rope = RopeTables{ulysses->take(rope.cos.unsqueeze(0)).squeeze(0),
                      ulysses->take(rope.sin.unsqueeze(0)).squeeze(0), /*rotation=*/at::Tensor()};
  }

  for (const auto& block : blocks) {
    h = block->forward(h, cond.text, cond.timestep_proj, rope, attention,
                       ulysses ? &*ulysses : nullptr);
  }
  const std::vector<at::Tensor> shift_scale =
      (scale_shift_table.to(at::kFloat) + cond.temb.to(at::kFloat).unsqueeze(1)).chunk(2, 1);
  if (ulysses) {
    // The output head is per token: it runs on the shard, and the gather moves pt*ph*pw*C_out
    // values a token instead of the model width.
    h = proj_out->forward(modulate(*norm_out, h, shift_scale[0], shift_scale[1]));
    h = ulysses->gather(h);  // [B, L, pt*ph*pw*C_out] on every rank
    if (joint) h = h.slice(1, text_tokens);
  } else {
    if (joint) h = h.slice(1, text_tokens);
    h = modulate(*norm_out, h, shift_scale[0], shift_scale[1]);
    h = proj_out->forward(h);  // [B, L, pt*ph*pw*C_out]
  }

  // Unpatchify as diffusers: the last dim is (pt, ph, pw, C_out).
  h = h.reshape({batch, grid.t, grid.h, grid.w, p.t, p.h, p.w, config_.out_channels});
  h = h.permute({0, 7, 1, 4, 2, 5, 3, 6});  // [B, C, F', pt, H', ph, W', pw]
  return h.reshape({batch, config_.out_channels, grid.t * p.t, grid.h * p.h, grid.w * p.w})
      .to(x.scalar_type());
}

}  // namespace sagegen::models
