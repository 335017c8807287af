// What a model and a request need in memory, checked against what the device holds before any
// tensor is made (issue 13 item 1): a mistyped size or config fails at once with exit 2, not
// with an allocation of terabytes or minutes of swapping.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "sagegen/model_config.h"
#include "sagegen/request.h"

namespace sagegen {

// Total memory of `device` in bytes: physical memory for the CPU, the GPU's total memory for
// CUDA; 0 when it cannot be told (then nothing is refused for memory).
std::uint64_t device_memory_bytes(const at::Device& device);

// "1.5 GB", "26.2 TB": decimal units, 3 significant digits.
std::string format_bytes(double bytes);

// A lower bound of the DiT's and text encoder's parameter count (vocabulary not counted).
double estimated_parameters(const ModelConfig& config);

// Throws ConfigError naming the config file and its dit sizes when the parameters alone, at
// `element_size` bytes each, exceed `memory_bytes` (0: no limit).
void check_model_fits(const ModelConfig& config, int element_size, std::uint64_t memory_bytes,
                      const std::string& device_name);

// Throws RequestError naming --size/--frames, the tokens and the limit when the activations of
// one denoising step (a lower bound: hidden states, q/k/v and the FFN's hidden layer for the
// cond/uncond batch) or the decoded frames exceed `memory_bytes` (0: no limit). Sizes that are
// not multiples of the patch are rounded down here; check_request() refuses them.
void check_request_fits(const GenerateRequest& request, const ModelConfig& config,
                        int element_size, std::uint64_t memory_bytes,
                        const std::string& device_name);

}  // namespace sagegen
