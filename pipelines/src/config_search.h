// Where configs/ folders are looked for: $SAGEGEN_ROOT, then the working directory, then the
// executable's directory, each with its parents (so build/app/sagegen finds the repository's).
#pragma once

#include <filesystem>
#include <vector>

namespace sagegen {

std::vector<std::filesystem::path> config_search_roots();

}  // namespace sagegen
