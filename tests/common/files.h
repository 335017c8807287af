// Whole-file reads and writes for tests (binary: bytes in, bytes out).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace sagegen::testing {

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace sagegen::testing
