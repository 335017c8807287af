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
  if (parameters.empty()) return;
  at::Generator gen = seeded_generator(parameters.begin()->second.device(), seed);
  for (auto& [name, param] : parameters) {  // std::map: a fixed order, so a fixed stream
    if (ends_with(name, "scale_shift_table")) {
      param.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(param.size(-1))), gen);
    } else if (ends_with(name, "token_embedding.weight")) {
      param.normal_(0.0, 1.0, gen);
    } else if (ends_with(name, "position_embedding.weight")) {
      param.normal_(0.0, 0.02, gen);
    } else if (ends_with(name, ".bias")) {
      param.zero_();
    } else if (param.dim() == 1) {  // norm weights
      param.fill_(1.0);
    } else {
      const double fan_in = static_cast<double>(param.numel() / param.size(0));
      param.normal_(0.0, 1.0 / std::sqrt(fan_in), gen);
    }
  }
}

void load_weights(std::map<std::string, at::Tensor>& parameters, const std::string& path) {
  at::NoGradGuard no_grad;
  io::LoadOptions options;
  options.dtype_conversion = io::DTypeConversion::kConvert;
  io::load_into(parameters, path, options);
}

}  // namespace sagegen::models
