// Output paths checked before any work (issue 13 item 5): a directory that cannot be made or
// written is refused up front, and two runs writing the same output never both succeed: the
// first holds `<sidecar>.lock` (O_EXCL, its pid inside) until it has written everything; the
// second is refused at once naming the holder. A lock whose pid is gone (a killed run) is taken
// over.
#pragma once

#include <filesystem>
#include <string>

#include "output_paths.h"

namespace sagegen::cli {

// Throws UsageError("<where>: ...") when the output directory cannot be created (a parent is a
// file) or written, or when the media path is a directory.
void check_output_writable(const OutputPaths& paths, const std::string& where);

class OutputLock {
 public:
  // Creates the output directory and the lock file; throws UsageError naming the other run.
  OutputLock(const OutputPaths& paths, const std::string& where);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace sagegen::cli
