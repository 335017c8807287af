#include "sagegen/models/weights.h"

#include <ATen/ATen.h>

#include <cmath>

#include "sagegen/io/safetensors.h"
#include "seeded_generator.h"

namespace sagegen::models {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void collect_parameters(const torch::nn::Module& module, const std::string& prefix,
                        std::map<std::string, at::Tensor>& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    out[prefix + item.key()] = item.value();
  }
}

void init_random(std::map<std::string, at::Tensor>& parameters, std::uint64_t seed) {
  at::NoGradGuard no_grad;
  // Drawn in float32 on the CPU generator whatever the parameters' device and dtype, then copied:
  // a seed means the same model on every device (a CUDA Philox draw gave other weights, hence
  // other pictures, issue 13 item 9).
  at::Generator gen = seeded_generator(at::Device(at::kCPU), seed);
  const at::TensorOptions cpu_float = at::TensorOptions().dtype(at::kFloat);
  for (auto& [name, param] : parameters) {  // std::map: a fixed order, so a fixed stream
    if (ends_with(name, ".bias")) {
      param.zero_();
      continue;
    }
    if (param.dim() == 1 && !ends_with(name, "scale_shift_table")) {  // norm weights
      param.fill_(1.0);
      continue;
    }
    double std = 0;
    if (ends_with(name, "scale_shift_table")) {
      std = 1.0 / std::sqrt(static_cast<double>(param.size(-1)));
    } else if (ends_with(name, "token_embedding.weight")) {
      std = 1.0;
    } else if (ends_with(name, "position_embedding.weight")) {
      std = 0.02;
    } else {
      std = 1.0 / std::sqrt(static_cast<double>(param.numel() / param.size(0)));
    }
    param.copy_(at::empty(param.sizes(), cpu_float).normal_(0.0, std, gen));
  }
}

void load_weights(std::map<std::string, at::Tensor>& parameters, const std::string& path) {
  at::NoGradGuard no_grad;
  io::LoadOptions options;
  options.dtype_conversion = io::DTypeConversion::kConvert;
  io::load_into(parameters, path, options);
}

}  // namespace sagegen::models
