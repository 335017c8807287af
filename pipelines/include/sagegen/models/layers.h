// Building blocks of the DiT and the text encoder. Parameters are allocated uninitialised on the
// given device and dtype: they are filled from a checkpoint (load_weights) or by init_random(),
// so a 1.3B-parameter model never runs a CPU initialiser it would throw away.
// Parameter names repeat the diffusers checkpoint names (weight, bias).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>

namespace sagegen::models {

// A named node with no parameters of its own, for checkpoint paths like `to_out.0` or
// `ffn.net.2` (children registered under "0", "2", ...).
class ModuleContainer : public torch::nn::Module {
 public:
  template <typename M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> module) {
    return register_module(name, std::move(module));
  }
};

class Linear : public torch::nn::Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, const at::TensorOptions& options,
         bool with_bias = true);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight;  // [out, in]
  at::Tensor bias;    // [out] or undefined
};

// RMSNorm over the last dimension, computed in float32, with a learned per-channel weight.
// Wan's qk_norm "rms_norm_across_heads" normalises Q/K over all heads at once (dim = width).
class RmsNorm : public torch::nn::Module {
 public:
  RmsNorm(std::int64_t dim, double eps, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight;
  double eps;
};

// LayerNorm over the last dimension in float32 (diffusers FP32LayerNorm); affine optional.
class LayerNorm : public torch::nn::Module {
 public:
  LayerNorm(std::int64_t dim, double eps, bool affine, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x) const;  // returns float32
  std::int64_t dim;
  double eps;
  at::Tensor weight;  // undefined without affine
  at::Tensor bias;
};

// diffusers FeedForward(activation_fn="gelu-approximate"): net.0.proj -> GELU(tanh) -> net.2.
class FeedForward : public torch::nn::Module {
 public:
  FeedForward(std::int64_t dim, std::int64_t hidden_dim, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x) const;
  std::shared_ptr<Linear> proj;  // net.0.proj
  std::shared_ptr<Linear> out;   // net.2
};

class Embedding : public torch::nn::Module {
 public:
  Embedding(std::int64_t count, std::int64_t dim, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& ids) const;  // int64 ids -> [..., dim]
  at::Tensor weight;  // [count, dim]
};

}  // namespace sagegen::models
