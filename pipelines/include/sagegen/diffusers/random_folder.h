// A Wan2.1 diffusers folder with random weights of the shapes its configs ask for: the same
// files and layout a downloaded folder has (model_index.json, each component's config, sharded
// safetensors with their index json), for timing and memory at real size where the real
// weights cannot be fetched (the GPU machine has no network and receives 64 MiB a call; the
// 1.3B folder is 14 GB in bf16). The video it gives is noise.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>

#include "sagegen/io/safetensors.h"

namespace sagegen::diffusers {

struct RandomFolderOptions {
  at::Device device{at::kCPU};  // where the values are drawn (CUDA: seconds for 7B values)
  // The transformer's and text encoder's file dtype (both run in bfloat16 on CUDA whatever the
  // files hold); the VAE is written in float32, as the Wan folders hold it.
  io::DType dtype = io::DType::kBF16;
  std::uint64_t seed = 0;
  // A component larger than this is written in shards with an index json, as save_pretrained
  // does (transformers' default 5 GB gives the 1.3B folder's text encoder 3 shards in bf16).
  std::uint64_t max_shard_bytes = 5'000'000'000;
  // A tokenizer folder (spiece.model, tokenizer_config.json) to copy when the skeleton has none:
  // umT5's real vocabulary cannot be fetched here, and any sentencepiece model whose pieces are
  // fewer than the encoder's vocab_size gives valid token ids.
  std::filesystem::path tokenizer_dir;
};

// Writes `out` (which must not exist, or be an empty folder): model_index.json and every config
// file of `skeleton` (a folder laid out as a diffusers Wan folder; weight files there are left
// out, so a real folder works too), the tokenizer (the skeleton's, else options.tokenizer_dir),
// and random weights for transformer/, text_encoder/ and vae/ (the decoder's tensors only: the
// encoder's are never read). Each component's config is read by the same functions the loader
// uses, and its tensors are the parameters of the module the loader fills, so the folder loads
// exactly as a downloaded one. Values: linear and convolution weights N(0, 1/fan_in), biases 0,
// norm weights 1, Wan's modulation tables N(0, 1/dim): activations stay finite through every
// layer. Errors (ConfigError) name the file or folder at fault.
void write_random_wan_folder(const std::filesystem::path& skeleton,
                             const std::filesystem::path& out, const RandomFolderOptions& options);

// Writes `tensors` as BASE.safetensors in `dir`, or, when they exceed `max_shard_bytes`, as
// BASE-0000i-of-0000N.safetensors shards (tensors in name order, a new shard before one would
// overflow) plus BASE.safetensors.index.json ({"metadata": {"total_size"}, "weight_map"}), the
// files save_pretrained writes. Returns the number of files holding tensors.
int save_sharded_safetensors(const std::filesystem::path& dir, const std::string& base_name,
                             const io::NamedTensors& tensors, std::uint64_t max_shard_bytes);

}  // namespace sagegen::diffusers
