// "did you mean --frames?": the nearest known name to a mistyped one, for the flag parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sagegen::cli {

// The candidate nearest to `word` by edit distance (insertions, deletions, substitutions, and
// swaps of neighbours), when it is close enough to be a typo: at most 1 edit for words of up to
// 4 letters, 2 up to 8, 3 beyond. Empty when none is.
std::string nearest_name(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace sagegen::cli
