// The transformer/ component of a Wan2.1 diffusers folder: config.json read strictly into a
// DitConfig, the weights (single file or sharded) loaded into sagegen's WanTransformer3DModel,
// whose parameter names are diffusers' (docs/pipeline.md).
#pragma once

#include <c10/core/TensorOptions.h>

#include <filesystem>
#include <memory>

#include "sagegen/model_config.h"
#include "sagegen/models/wan_dit.h"

namespace sagegen::diffusers {

// The text length WanPipeline pads prompts to (its max_sequence_length).
inline constexpr int kWanTextLength = 512;

// Reads a WanTransformer3DModel config.json. Every key that changes the math is read; values
// sagegen cannot run (image_dim / added_kv_proj_dim of the image-to-video models,
// cross_attn_norm false, another qk_norm, heads * head_dim with an odd head_dim) and unknown
// keys are ConfigErrors naming the file and the key.
DitConfig read_wan_transformer_config(const std::filesystem::path& config_json);

// Builds the model from dir/config.json in `options` (device, dtype) and fills it from the
// folder's safetensors (float32, bfloat16 or float16 files, converted to `options`' dtype).
std::shared_ptr<models::WanTransformer3DModel> load_wan_transformer(
    const std::filesystem::path& dir, const at::TensorOptions& options);

}  // namespace sagegen::diffusers
