// Errors in what the user asked for (flags, batch files, missing input files). main() prints the
// message on one line and exits with kUsageExitCode; everything else that fails exits with 1.
#pragma once

#include <stdexcept>
#include <string>

namespace sagegen::cli {

constexpr int kUsageExitCode = 2;
constexpr int kFailureExitCode = 1;

class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace sagegen::cli
