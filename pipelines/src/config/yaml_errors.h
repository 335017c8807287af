// libsagegen's configs (model, training, per-arch costs) read YAML through the strict reader
// they share with libsageattn's tables (common/include/strict_yaml/strict_yaml.h). Each loader
// turns that reader's errors into ConfigError at its boundary, in the configs' format
// "file:line: key: problem" (the tables also give the column; docs/cli.md).
#pragma once

#include <utility>

#include "sagegen/errors.h"
#include "strict_yaml/strict_yaml.h"

namespace sagegen::config {

inline ConfigError as_config_error(const strict_yaml::Error& error) {
  std::string where = error.where().file;
  if (error.where().line > 0) where += ":" + std::to_string(error.where().line);
  return ConfigError(where + ": " + (error.key().empty() ? "" : error.key() + ": ") +
                     error.problem());
}

// read(), with strict_yaml::Error rethrown as ConfigError.
template <class Read>
auto with_config_errors(Read&& read) -> decltype(std::forward<Read>(read)()) {
  try {
    return std::forward<Read>(read)();
  } catch (const strict_yaml::Error& error) {
    throw as_config_error(error);
  }
}

}  // namespace sagegen::config
