// Sharded checkpoints as diffusers and transformers write them (save_pretrained with a
// max_shard_size): NAME.safetensors.index.json, {"metadata": {...}, "weight_map": {tensor: shard}},
// next to the shards NAME-00001-of-0000N.safetensors.
#pragma once

#include <filesystem>

#include "sagegen/io/safetensors.h"

namespace sagegen::io {

// Fills `targets` from the shards `index_path` names (resolved in the index's folder). Before
// anything is written: the index must parse, with a "weight_map" object of tensor -> file name
// (a plain name, no folders); every shard it names must exist and pass SafetensorsFile::open;
// every tensor must lie in the shard the index names and every tensor of a shard must be listed;
// then load_into's checks run over all shards together. Errors are SafetensorsErrors naming
// the index (and the shard or tensor at fault).
void load_into_sharded(const NamedTensors& targets, const std::filesystem::path& index_path,
                       const LoadOptions& options = {});

}  // namespace sagegen::io
