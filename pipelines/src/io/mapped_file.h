// A read-only memory mapping of a whole file (POSIX mmap), unmapped on destruction.
#pragma once

#include <cstddef>
#include <filesystem>

namespace sagegen::io::detail {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws SafetensorsError naming the path when the file cannot be opened or mapped.
  explicit MappedFile(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() noexcept;
  const unsigned char* data_ = nullptr;  // null for an empty file: mmap rejects length 0
  std::size_t size_ = 0;
};

}  // namespace sagegen::io::detail
