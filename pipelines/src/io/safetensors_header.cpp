// Every check a header gets before a byte of tensor data is touched (docs/weights.md lists them).
#include "safetensors_header.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "safetensors_error.h"

namespace sagegen::io::detail {
namespace {

using nlohmann::json;

// Dtypes the safetensors format defines that sagegen does not read: named as "not supported"
// rather than "unknown", so a user knows the file is valid but needs converting.
constexpr std::string_view kOtherSafetensorsDtypes[] = {
    "BOOL", "I16", "U16", "I32", "U32", "I64", "U64", "F64", "F8_E4M3", "F8_E5M2", "F8_E8M0",
    "F4", "F6_E2M3", "F6_E3M2", "C64"};

std::uint64_t read_unsigned(const json& value, const std::string& file, const std::string& tensor,
                            std::string_view field) {
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
    throw_safetensors_error(file, "tensor '{}': {} holds {}, not a non-negative integer", tensor,
                            field, value.dump());
  }
  return value.get<std::uint64_t>();
}

DType read_dtype(const json& entry, const std::string& file, const std::string& tensor) {
  const json& value = entry.at("dtype");
  if (!value.is_string()) {
    throw_safetensors_error(file, "tensor '{}': dtype is {}, not a string", tensor, value.dump());
  }
  const auto& name = value.get_ref<const std::string&>();
  if (auto dtype = parse_dtype(name)) return *dtype;
  const bool known = std::find(std::begin(kOtherSafetensorsDtypes), std::end(kOtherSafetensorsDtypes),
                               name) != std::end(kOtherSafetensorsDtypes);
  throw_safetensors_error(file, "tensor '{}': {} dtype '{}' (sagegen reads F32, F16, BF16, I8, U8)",
                          tensor, known ? "unsupported" : "unknown", name);
}

std::vector<std::int64_t> read_shape(const json& entry, const std::string& file,
                                     const std::string& tensor) {
  const json& value = entry.at("shape");
  if (!value.is_array()) {
    throw_safetensors_error(file, "tensor '{}': shape is {}, not an array", tensor, value.dump());
  }
  std::vector<std::int64_t> shape;
  for (const json& dim : value) {
    const std::uint64_t size = read_unsigned(dim, file, tensor, "shape");
    if (size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw_safetensors_error(file, "tensor '{}': shape dimension {} is too large", tensor, size);
    }
    shape.push_back(static_cast<std::int64_t>(size));
  }
  return shape;
}

// Bytes the shape and dtype need; nullopt on overflow (which no real file reaches).
std::optional<std::uint64_t> byte_size(const std::vector<std::int64_t>& shape, DType dtype) {
  std::uint64_t bytes = element_size(dtype);
  for (std::int64_t dim : shape) {
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(dim), &bytes)) return std::nullopt;
  }
  return bytes;
}

TensorInfo read_entry(const std::string& name, const json& entry, std::uint64_t data_size,
                      const std::string& file) {
  if (!entry.is_object()) {
    throw_safetensors_error(file, "tensor '{}': entry is {}, not an object", name, entry.type_name());
  }
  for (const auto& [key, unused] : entry.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      throw_safetensors_error(file, "tensor '{}': unexpected key '{}'", name, key);
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) throw_safetensors_error(file, "tensor '{}': missing key '{}'", name, key);
  }
  TensorInfo info;
  info.name = name;
  info.dtype = read_dtype(entry, file, name);
  info.shape = read_shape(entry, file, name);

  const json& offsets = entry.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    throw_safetensors_error(file, "tensor '{}': data_offsets is {}, not [begin, end]", name,
                            offsets.dump());
  }
  info.begin = read_unsigned(offsets[0], file, name, "data_offsets");
  info.end = read_unsigned(offsets[1], file, name, "data_offsets");
  if (info.begin > info.end) {
    throw_safetensors_error(file, "tensor '{}': data_offsets [{}, {}] end before they begin", name,
                            info.begin, info.end);
  }
  if (info.end > data_size) {
    throw_safetensors_error(file,
                            "tensor '{}': data_offsets [{}, {}] run past the end of the data buffer "
                            "({} bytes): the file is truncated or the offsets are out of range",
                            name, info.begin, info.end, data_size);
  }
  const auto needed = byte_size(info.shape, info.dtype);
  if (!needed || *needed != info.end - info.begin) {
    throw_safetensors_error(file,
                            "tensor '{}': data_offsets [{}, {}] hold {} bytes but shape [{}] of {} "
                            "needs {}",
                            name, info.begin, info.end, info.end - info.begin,
                            fmt::join(info.shape, ", "), to_string(info.dtype),
                            needed ? fmt::to_string(*needed) : std::string("more than 2^64"));
  }
  return info;
}

Metadata read_metadata(const json& value, const std::string& file) {
  if (!value.is_object()) {
    throw_safetensors_error(file, "__metadata__ is {}, not an object of strings", value.type_name());
  }
  Metadata metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      throw_safetensors_error(file, "__metadata__ key '{}' holds {}, not a string", key, item.dump());
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// The tensors must tile [0, data_size) exactly: the format has no holes, and overlapping
// tensors would let one write show up in another.
void check_coverage(std::vector<const TensorInfo*> by_offset, std::uint64_t data_size,
                    const std::string& file) {
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo* info : by_offset) {
    if (info->begin < covered) {
      throw_safetensors_error(file, "tensor '{}': data_offsets [{}, {}] overlap tensor '{}' [{}, {}]",
                              info->name, info->begin, info->end, previous->name, previous->begin,
                              previous->end);
    }
    if (info->begin > covered) {
      throw_safetensors_error(file,
                              "data bytes [{}, {}) belong to no tensor (a hole before tensor '{}')",
                              covered, info->begin, info->name);
    }
    covered = info->end;
    previous = info;
  }
  if (covered != data_size) {
    throw_safetensors_error(file,
                            "the data buffer holds {} bytes but the tensors cover only the first {}",
                            data_size, covered);
  }
}

}  // namespace

std::uint64_t decode_header_length(const unsigned char* prefix) {
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | prefix[i];
  return length;
}

void check_header_length(std::uint64_t header_length, std::uint64_t file_size,
                         const std::string& file) {
  if (file_size < kHeaderLengthBytes) {
    throw_safetensors_error(file, "truncated: {} bytes, shorter than the 8-byte header length",
                            file_size);
  }
  if (header_length > file_size - kHeaderLengthBytes) {
    throw_safetensors_error(file, "header length {} runs past the end of the file ({} bytes)",
                            header_length, file_size);
  }
  if (header_length > kMaxHeaderBytes) {
    throw_safetensors_error(file, "header length {} exceeds the limit of {} bytes", header_length,
                            kMaxHeaderBytes);
  }
  if (header_length < 2) {
    throw_safetensors_error(file, "header length {} is too short for a JSON object", header_length);
  }
}

ParsedHeader parse_header(std::string_view header_json, std::uint64_t data_size,
                          const std::string& file) {
  json header;
  try {
    header = json::parse(header_json.begin(), header_json.end());
  } catch (const json::exception& e) {
    throw_safetensors_error(file, "header is not JSON ({})", e.what());
  }
  if (!header.is_object()) {
    throw_safetensors_error(file, "header is a JSON {}, not an object", header.type_name());
  }
  ParsedHeader parsed;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      parsed.metadata = read_metadata(value, file);
    } else {
      parsed.tensors.push_back(read_entry(key, value, data_size, file));
    }
  }
  // nlohmann's object is a std::map, so the tensors already come sorted by name.
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& info : parsed.tensors) by_offset.push_back(&info);
  check_coverage(std::move(by_offset), data_size, file);
  return parsed;
}

}  // namespace sagegen::io::detail
