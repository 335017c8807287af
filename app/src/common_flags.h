// Flags that several sub-commands share, declared once here so the same flag is spelled, parsed
// and worded alike in every sub-command (generate, batch, bench-pipeline, compare, calibrate,
// eval, train): the generation keys with their short forms and aliases, and --log-level.
#pragma once

#include <spdlog/common.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "flag_parser.h"
#include "generation_settings.h"

namespace sagegen::cli {

// Every spelling of a generation key: "--steps"; "-p", "--prompt"; "--cfg-scale", "--cfg"; ...
std::vector<std::string> generation_flag_spellings(const std::string& key);

// Declares the generation keys `accepts` takes (every one when empty); each value is applied to
// `settings` and, when `given` is set, recorded there as (key, value) in command-line order.
void declare_generation_flags(FlagParser& flags, GenerationSettings& settings,
                              const std::function<bool(const std::string& key)>& accepts = {},
                              std::vector<std::pair<std::string, std::string>>* given = nullptr);

// trace, debug, info, warn, error, critical, off; anything else (also spdlog's own aliases such
// as "warning") is a UsageError naming `where`, in every sub-command alike.
spdlog::level::level_enum parse_log_level(const std::string& text, const std::string& where);

}  // namespace sagegen::cli
