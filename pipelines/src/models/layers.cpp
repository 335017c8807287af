#include "sagegen/models/layers.h"

#include <ATen/ATen.h>

namespace sagegen::models {

Linear::Linear(std::int64_t in_features, std::int64_t out_features,
               const at::TensorOptions& options, bool with_bias) {
  weight = register_parameter("weight", at::empty({out_features, in_features}, options));
  if (with_bias) bias = register_parameter("bias", at::empty({out_features}, options));
}

at::Tensor Linear::forward(const at::Tensor& x) const { return at::linear(x, weight, bias); }

RmsNorm::RmsNorm(std::int64_t dim, double eps_value, const at::TensorOptions& options)
    : eps(eps_value) {
  weight = register_parameter("weight", at::empty({dim}, options));
}

at::Tensor RmsNorm::forward(const at::Tensor& x) const {
  // x * rsqrt(mean(x^2) + eps) * weight in float32: one fused kernel on CUDA (the CPU runs the
  // same formula op by op).
  return at::rms_norm(x.to(at::kFloat), {weight.size(0)}, weight.to(at::kFloat), eps)
      .to(x.scalar_type());
}

LayerNorm::LayerNorm(std::int64_t dim_value, double eps_value, bool affine,
                     const at::TensorOptions& options)
    : dim(dim_value), eps(eps_value) {
  if (affine) {
    weight = register_parameter("weight", at::empty({dim}, options));
    bias = register_parameter("bias", at::empty({dim}, options));
  }
}

at::Tensor LayerNorm::forward(const at::Tensor& x) const {
  const at::Tensor w = weight.defined() ? weight.to(at::kFloat) : at::Tensor();
  const at::Tensor b = bias.defined() ? bias.to(at::kFloat) : at::Tensor();
  return at::layer_norm(x.to(at::kFloat), {dim}, w, b, eps);
}

FeedForward::FeedForward(std::int64_t dim, std::int64_t hidden_dim,
                         const at::TensorOptions& options) {
  auto net = register_module("net", std::make_shared<ModuleContainer>());
  auto gelu = net->add("0", std::make_shared<ModuleContainer>());
  proj = gelu->add("proj", std::make_shared<Linear>(dim, hidden_dim, options));
  out = net->add("2", std::make_shared<Linear>(hidden_dim, dim, options));
}

at::Tensor FeedForward::forward(const at::Tensor& x) const {
  return out->forward(at::gelu(proj->forward(x), "tanh"));
}

Embedding::Embedding(std::int64_t count, std::int64_t dim, const at::TensorOptions& options) {
  weight = register_parameter("weight", at::empty({count, dim}, options));
}

at::Tensor Embedding::forward(const at::Tensor& ids) const { return at::embedding(weight, ids); }

}  // namespace sagegen::models
