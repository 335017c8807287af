// Parsing and validation of a safetensors header, apart from any file access.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sagegen/io/safetensors.h"

namespace sagegen::io::detail {

// The reference implementation refuses larger headers too; it bounds the memory a bad length
// field can make us allocate.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::uint64_t kHeaderLengthBytes = 8;

struct ParsedHeader {
  std::vector<TensorInfo> tensors;  // sorted by name
  Metadata metadata;
};

// `header_json`: the N header bytes; `data_size`: the bytes after them. Checks every entry and
// that the tensors tile the data buffer exactly. `file` only names the file in messages.
ParsedHeader parse_header(std::string_view header_json, std::uint64_t data_size,
                          const std::string& file);

// Decodes the 8-byte little-endian length prefix.
std::uint64_t decode_header_length(const unsigned char* prefix);

// Checks the length prefix against the file size; throws naming the file.
void check_header_length(std::uint64_t header_length, std::uint64_t file_size,
                         const std::string& file);

}  // namespace sagegen::io::detail
