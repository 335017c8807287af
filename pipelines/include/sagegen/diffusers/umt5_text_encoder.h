// The text_encoder/ component of a Wan2.1 diffusers folder: transformers' UMT5EncoderModel
// (config.json read strictly, model.safetensors or its sharded index).
#pragma once

#include <c10/core/TensorOptions.h>

#include <filesystem>
#include <memory>

#include "sagegen/attention_context.h"
#include "sagegen/models/umt5_encoder.h"

namespace sagegen::diffusers {

// Reads a transformers UMT5 config.json (model_type umt5, gated GELU(tanh) feed-forward, an
// encoder). Unknown keys and values sagegen cannot run are ConfigErrors naming file and key.
models::Umt5Config read_umt5_config(const std::filesystem::path& config_json);

// Builds the encoder from dir/config.json in `options` and fills it from the folder's weights.
std::shared_ptr<models::Umt5EncoderModel> load_umt5_encoder(const std::filesystem::path& dir,
                                                            const at::TensorOptions& options);

// Wan's prompt features (WanPipeline._get_t5_prompt_embeds): each prompt's last_hidden_state
// up to its length (the mask's count of tokens), zeros after, padded to text_length.
// ids, mask: [B, L] with L <= text_length (padding beyond a prompt's tokens changes nothing:
// padded keys are masked and T5's position bias depends on offsets only). Returns
// [B, text_length, d_model].
at::Tensor wan_prompt_embeddings(const models::Umt5EncoderModel& encoder, const at::Tensor& ids,
                                 const at::Tensor& mask, AttentionContext& attention,
                                 int first_layer_id, int text_length);

}  // namespace sagegen::diffusers
