#include "sagegen/models/text_to_video_model.h"

#include <fmt/format.h>

#include <stdexcept>

#include "sagegen/errors.h"
#include "sagegen/models/weights.h"

namespace sagegen::models {

TextToVideoModel build_text_to_video_model(const ModelConfig& config,
                                           const at::TensorOptions& options) {
  TextToVideoModel model;
  try {
    model.tokenizer.emplace(text::WordTokenizer::from_file(config.text_encoder.vocab_path));
  } catch (const std::runtime_error& e) {
    throw ConfigError(fmt::format("{}: text_encoder.vocab: {}", config.source_path, e.what()));
  }
  model.text_encoder = std::make_shared<TextEncoder>(
      config.text_encoder, model.tokenizer->vocab_size(), config.dit.text_length, config.dit.eps,
      options);
  model.text_encoder->first_layer_id = config.dit_attention_layers();
  model.dit = std::make_shared<WanTransformer3DModel>(config.dit, options);
  collect_parameters(*model.dit, "", model.parameters);
  collect_parameters(*model.text_encoder, "text_encoder.", model.parameters);
  return model;
}

}  // namespace sagegen::models
