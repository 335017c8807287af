// The weights of one component folder: BASE.safetensors, or BASE.safetensors.index.json with its
// shards (BASE: diffusion_pytorch_model for diffusers models, model for transformers models).
// Any of float32, bfloat16, float16 in the files, converted to the model's dtype.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "sagegen/io/safetensors.h"

namespace sagegen::diffusers {

// Fills `targets` (names, shapes checked; every tensor of the files must be a target) from the
// component's files. No weights there (or only .bin files, which sagegen does not read): a
// ConfigError naming the folder and the file names looked for.
// extra: kIgnore leaves tensors no target names on disk (the caller has checked their names).
void load_component_weights(const io::NamedTensors& targets, const std::filesystem::path& dir,
                            const std::string& base_name,
                            io::ExtraTensors extra = io::ExtraTensors::kReject);

// The tensor names the component's files hold (the index's weight_map, or the single file's
// header), for models whose checkpoints spell a tensor more than one way. Errors as above.
std::set<std::string> component_tensor_names(const std::filesystem::path& dir,
                                             const std::string& base_name);

}  // namespace sagegen::diffusers
