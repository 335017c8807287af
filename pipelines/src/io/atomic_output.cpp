#include "atomic_output.h"

#include <unistd.h>

#include <fmt/format.h>

#include <stdexcept>
#include <system_error>

namespace sagegen::io::detail {

void check_writable_directory(const std::filesystem::path& target) {
  const std::filesystem::path directory =
      target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw std::runtime_error(fmt::format("cannot write '{}': directory '{}' does not exist",
                                         target.string(), directory.string()));
  }
  if (::access(directory.c_str(), W_OK) != 0) {
    throw std::runtime_error(fmt::format("cannot write '{}': directory '{}' is not writable",
                                         target.string(), directory.string()));
  }
  if (std::filesystem::is_directory(target, error)) {
    throw std::runtime_error(fmt::format("cannot write '{}': it is a directory", target.string()));
  }
}

AtomicOutput::AtomicOutput(const std::filesystem::path& target) : target_(target) {
  check_writable_directory(target);
  temp_ = target.parent_path() / fmt::format(".{}.partial-{}{}", target.stem().string(),
                                             static_cast<long>(::getpid()), target.extension().string());
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ignored;
    std::filesystem::remove(temp_, ignored);
  }
}

void AtomicOutput::commit() {
  std::error_code error;
  std::filesystem::rename(temp_, target_, error);
  if (error) {
    throw std::runtime_error(fmt::format("cannot write '{}': renaming '{}' failed: {}", target_.string(),
                                         temp_.string(), error.message()));
  }
  committed_ = true;
}

}  // namespace sagegen::io::detail
