// The CLI's wording of a library error: the library names the fields of LoadOptions and
// GenerateRequest ("width 100000, height 100000, frames 1: needs ..."); users typed flags, so the
// CLI names those ("--size 100000x100000 --frames 1: needs ...").
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "sagegen/errors.h"

namespace sagegen::cli {

// The flags for `fields`: "--" + the field with '-' for '_', and a width followed by a height
// as one "--size WxH".
std::string flags_of(const std::vector<FieldValue>& fields);

// "<flags>: <detail>" for a RequestError or ConfigError that names fields; else e.what().
std::string cli_error_message(const std::exception& e);

}  // namespace sagegen::cli
