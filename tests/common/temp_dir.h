// Scratch directories for tests, removed with everything in them.
#pragma once

#include <ftw.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

namespace sagegen::testing {

// Removes a directory tree (or a file). Not std::filesystem::remove_all: libtorch.so of the
// torch 2.11 wheel exports its own copy of it, which the dynamic linker prefers to libstdc++'s
// and which crashes (a null call).
inline void remove_tree(const std::filesystem::path& path) {
  nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

// A fresh empty directory under the system temp dir, unique per instance and process.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sagegen-test") {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { remove_tree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace sagegen::testing
