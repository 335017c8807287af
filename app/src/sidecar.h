// The JSON sidecar written next to every output: everything needed to reproduce it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "output_paths.h"
#include "sagegen/pipeline.h"

namespace sagegen::cli {

// The command line that regenerates this output (the seed resolved, every key explicit).
std::string reproduce_command(const LoadOptions& load, const GenerateRequest& request,
                              std::int64_t seed);

// The settings that decide an output's pixels, as the sidecar records them: prompt, negative
// prompt, seed, steps, cfg, shift, size, frames, fps, the model's name, hashes of its config,
// weights and table files, and the attention override. A batch rerun skips a job only when its
// sidecar records the same (issue 13 item 4).
nlohmann::json output_settings(const GenerateRequest& request, const Pipeline& pipeline);

// Empty when `sidecar` records every key of `settings` with the same value; else the first
// difference in words: "seed 1 in the sidecar, 2 now".
std::string settings_difference(const nlohmann::json& sidecar, const nlohmann::json& settings);

// FNV-1a 64 of a file's bytes in hex ("" for an empty path); remembered per path in-process.
std::string file_hash(const std::string& path);

// `load` and `request` are what was asked (seed already resolved); `result` is what ran;
// `settings` is output_settings() of the same run (merged in).
nlohmann::json sidecar_json(const LoadOptions& load, const GenerateRequest& request,
                            const GenerateResult& result, const OutputPaths& paths,
                            const nlohmann::json& settings);

}  // namespace sagegen::cli
