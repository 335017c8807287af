// Messages of the weights reader and writer all read "<file>: <problem>", naming the tensor.
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>

#include "sagegen/io/safetensors.h"

namespace sagegen::io::detail {

template <typename... Args>
[[noreturn]] void throw_safetensors_error(const std::string& file, fmt::format_string<Args...> format,
                                          Args&&... args) {
  throw SafetensorsError(file + ": " + fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace sagegen::io::detail
