// A process setting read from an environment variable with a fixed set of values (the A/B
// switches of the kernels: SAGEATTN_WGMMA_GRID, SAGEATTN_PROGRAMMATIC_LAUNCH, ...).
#pragma once

#include <c10/util/Exception.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sageattn {

// The value of environment variable `name` among `choices` (word, value); unset or empty gives
// the first choice. Any other word throws c10::Error naming the variable, the word and the
// choices.
template <typename T>
T env_choice(const char* name, std::initializer_list<std::pair<std::string_view, T>> choices) {
  const char* text = std::getenv(name);
  const std::string value = text == nullptr ? "" : text;
  if (value.empty()) return choices.begin()->second;
  std::string words;
  for (const auto& [word, choice] : choices) {
    if (value == word) return choice;
    words += (words.empty() ? "" : ", ") + std::string(word);
  }
  TORCH_CHECK(false, "sageattn: environment variable ", name, "='", value, "' is not one of ",
              words);
}

}  // namespace sageattn
