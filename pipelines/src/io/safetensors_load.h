// load_into over several files: the shards of one checkpoint (safetensors_index.cpp) share the
// checks of a single file.
#pragma once

#include <string>
#include <vector>

#include "sagegen/io/safetensors.h"

namespace sagegen::io::detail {

// Looks every target up across `files` (a name in two files is a problem); all names, shapes
// and dtypes are checked before any target is written, and one SafetensorsError starting with
// `label` lists every problem.
void load_into_files(const NamedTensors& targets, const std::vector<const SafetensorsFile*>& files,
                     const std::string& label, const LoadOptions& options);

}  // namespace sagegen::io::detail
