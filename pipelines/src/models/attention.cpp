#include "sagegen/models/attention.h"

#include <ATen/ATen.h>

#include <cmath>

namespace sagegen::models {

WanAttention::WanAttention(int width, int heads_value, double eps, bool qk_norm,
                           const at::TensorOptions& options)
    : heads(heads_value) {
  to_q = register_module("to_q", std::make_shared<Linear>(width, width, options));
  to_k = register_module("to_k", std::make_shared<Linear>(width, width, options));
  to_v = register_module("to_v", std::make_shared<Linear>(width, width, options));
  auto out = register_module("to_out", std::make_shared<ModuleContainer>());
  to_out = out->add("0", std::make_shared<Linear>(width, width, options));
  if (qk_norm) {
    norm_q = register_module("norm_q", std::make_shared<RmsNorm>(width, eps, options));
    norm_k = register_module("norm_k", std::make_shared<RmsNorm>(width, eps, options));
  }
}

at::Tensor WanAttention::forward(const at::Tensor& x, const at::Tensor& context,
                                 const RopeTables* rope, AttentionContext& attention,
                                 int layer_id, const at::Tensor& key_bias,
                                 const parallel::UlyssesAttention* ulysses) const {
  const at::Tensor& kv_source = context.defined() ? context : x;
  at::Tensor q = to_q->forward(x);
  at::Tensor k = to_k->forward(kv_source);
  at::Tensor v = to_v->forward(kv_source);
  if (norm_q) {
    q = norm_q->forward(q);
    k = norm_k->forward(k);
  }
  q = q.unflatten(2, {heads, -1});  // [B, L, H, D]
  k = k.unflatten(2, {heads, -1});  // [B, L_k, H, D]
  v = v.unflatten(2, {heads, -1});
  if (rope != nullptr) {
    q = apply_rope(q, *rope);
    k = apply_rope(k, *rope);
  }
  const auto attend = [&](const at::Tensor& q_, const at::Tensor& k_, const at::Tensor& v_) {
    return attention.attend(q_, k_, v_, layer_id);
  };
  TORCH_CHECK(!(key_bias.defined() && ulysses != nullptr),
              "WanAttention::forward: a key bias and sequence parallelism together are not supported");
  const bool sequence_parallel = ulysses != nullptr && !context.defined();
  const at::Tensor out =
      key_bias.defined()
          ? attention.attend_with_bias(q, k, v, key_bias, layer_id,
                                       1.0 / std::sqrt(static_cast<double>(q.size(3))))
      : sequence_parallel ? ulysses->attend(q, k, v, attend)
                          : attend(q, k, v);  // [B, L, H, D]
  return to_out->forward(out.flatten(2));
}

}  // namespace sagegen::models
