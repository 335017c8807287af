// Writes land under a temporary name in the target's directory and are renamed into place on
// commit(), so a reader (or a resumed batch checking for finished outputs) never sees half a file.
#pragma once

#include <filesystem>

namespace sagegen::io::detail {

class AtomicOutput {
 public:
  // Throws std::runtime_error naming the path when its directory does not exist or is not
  // writable. The temporary name keeps the extension (OpenCV picks the container from it).
  explicit AtomicOutput(const std::filesystem::path& target);
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  ~AtomicOutput();  // removes the temporary file unless committed

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

// Throws std::runtime_error naming `target` unless its directory exists and is writable.
void check_writable_directory(const std::filesystem::path& target);

}  // namespace sagegen::io::detail
