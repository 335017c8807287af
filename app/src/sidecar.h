// The JSON sidecar written next to every output: everything needed to reproduce it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "output_paths.h"
#include "sagegen/pipeline.h"

namespace sagegen::cli {

// The command line that regenerates this output (the seed resolved, every key explicit).
std::string reproduce_command(const GenerateRequest& request, std::int64_t seed);

// `request` is what was asked (seed already resolved); `result` is what ran.
nlohmann::json sidecar_json(const GenerateRequest& request, const GenerateResult& result,
                            const OutputPaths& paths);

}  // namespace sagegen::cli
