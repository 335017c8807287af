// The text_encoder/ component of a Wan2.1 diffusers folder: transformers' UMT5EncoderModel
// (config.json read strictly, model.safetensors or its sharded index).
#pragma once

#include <c10/core/TensorOptions.h>

#include <filesystem>
#include <memory>

#include "sagegen/models/umt5_encoder.h"

namespace sagegen::diffusers {

// Reads a transformers UMT5 config.json (model_type umt5, gated GELU(tanh) feed-forward, an
// encoder). Unknown keys and values sagegen cannot run are ConfigErrors naming file and key.
models::Umt5Config read_umt5_config(const std::filesystem::path& config_json);

// Builds the encoder from dir/config.json in `options` and fills it from the folder's weights.
std::shared_ptr<models::Umt5EncoderModel> load_umt5_encoder(const std::filesystem::path& dir,
                                                            const at::TensorOptions& options);

}  // namespace sagegen::diffusers
