// The parts of a text-to-video model built from its config: tokenizer, text encoder and DiT,
// with every parameter allocated under its checkpoint name but not yet filled (the caller
// loads weights or draws random ones). Shared by inference and training.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "sagegen/model_config.h"
#include "sagegen/models/text_encoder.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/text/tokenizer.h"

namespace sagegen::models {

struct TextToVideoModel {
  std::optional<text::WordTokenizer> tokenizer;
  std::shared_ptr<TextEncoder> text_encoder;
  std::shared_ptr<WanTransformer3DModel> dit;
  std::map<std::string, at::Tensor> parameters;  // DiT names, then "text_encoder." names
};

// A vocabulary file that can't be read is a ConfigError naming the config and its key.
TextToVideoModel build_text_to_video_model(const ModelConfig& config,
                                           const at::TensorOptions& options);

}  // namespace sagegen::models
