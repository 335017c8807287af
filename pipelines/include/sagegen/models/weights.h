// Filling a model's parameters: from a safetensors checkpoint (names looked up directly) or with
// seeded random values (benchmarks and tests; the output of such a model is noise).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <map>
#include <string>

namespace sagegen::models {

// name -> parameter, with `prefix` prepended (e.g. "text_encoder.").
void collect_parameters(const torch::nn::Module& module, const std::string& prefix,
                        std::map<std::string, at::Tensor>& out);

// Deterministic for a given seed, the same on every device and dtype (drawn in float32 on the
// CPU, then copied): Linear/Conv weights N(0, 1/fan_in), biases 0,
// norm weights 1, token embeddings N(0, 1), position embeddings N(0, 0.02^2),
// scale_shift_table N(0, 1/C) as Wan initialises it.
void init_random(std::map<std::string, at::Tensor>& parameters, std::uint64_t seed);

// Fills every parameter from `path` (dtype converted to the parameter's); a missing, extra or
// mis-shaped tensor is a ConfigError naming the file and the tensor.
void load_weights(std::map<std::string, at::Tensor>& parameters, const std::string& path);

}  // namespace sagegen::models
