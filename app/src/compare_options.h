// `sagegen compare`'s flags: the generation flags that fix one prompt and seed, plus what to
// compare (--variants, --tables) and where the figures go (--out). Parsed apart from the other
// commands because --attention and --table make no sense here (compare varies them).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <spdlog/common.h>

#include "generation_settings.h"
#include "sageattn/types.h"

namespace sagegen::cli {

struct CompareOptions {
  GenerationSettings settings;               // prompt, seed, steps, size, frames, model, device...
  std::vector<sageattn::Variant> variants;   // --variants, in the order given
  std::vector<std::string> tables;           // --tables, in the order given (files checked to exist)
  std::string out;                           // --out DIR; empty: outputs/compare-<prompt>-s<seed>/
  bool overwrite = false;
  bool help = false;
  std::optional<spdlog::level::level_enum> log_level;
};

// Parses the arguments after "compare". Throws UsageError naming the flag and the bad value.
CompareOptions parse_compare_args(const std::vector<std::string>& args);

// The usage text of `sagegen compare --help`.
const char* compare_usage();

}  // namespace sagegen::cli
