// The text of `sagegen --help` and `sagegen --version`.
#pragma once

#include <string>

namespace sagegen::cli {

std::string help_text();
std::string version_text();

}  // namespace sagegen::cli
