// Safetensors weights: reader (memory-mapped or streamed), canonical writer, and load_into(),
// which fills a model's named parameters with name, shape and dtype checks.
// Format: 8-byte little-endian header length N, N bytes of JSON header, then the data buffer;
// docs/weights.md lists every check the reader makes and the error it gives.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sagegen/errors.h"

namespace sagegen::io {

// A file that cannot be read as asked. Every message starts with the file's path and, where one
// tensor is at fault, names it. A ConfigError, so clients treat bad weights as the user's to fix.
class SafetensorsError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// The dtypes sagegen reads and writes; the names are the safetensors spellings.
enum class DType : std::uint8_t { kF32, kF16, kBF16, kI8, kU8 };

std::string_view to_string(DType dtype);
std::optional<DType> parse_dtype(std::string_view name);  // nullopt: unknown or unsupported
std::size_t element_size(DType dtype);
at::ScalarType to_scalar_type(DType dtype);
std::optional<DType> dtype_of(at::ScalarType type);  // nullopt: no safetensors dtype here

enum class ReadMode : std::uint8_t {
  kMmap,    // map the file; tensors are copied straight out of the mapping
  kStream,  // read the header, then seek and read each tensor on request
};

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // data_offsets, relative to the start of the data buffer
  std::uint64_t end = 0;
};

using NamedTensors = std::map<std::string, at::Tensor>;
using Metadata = std::map<std::string, std::string>;

// An opened, fully validated file: the header was parsed and every entry checked (dtype, shape,
// offsets in range, not overlapping, covering the data buffer exactly) before open() returns.
class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path, ReadMode mode = ReadMode::kMmap);
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::filesystem::path& path() const;
  const std::vector<TensorInfo>& tensors() const;  // sorted by name
  const Metadata& metadata() const;                // the "__metadata__" entry; empty if absent
  const TensorInfo* find(std::string_view name) const;  // nullptr when absent

  // A CPU tensor owning its memory (a copy of the file's bytes). Throws when `name` is absent.
  at::Tensor read(std::string_view name) const;
  NamedTensors read_all() const;
  // Copies the tensor's bytes into `target` (same shape; any device), converting the dtype.
  void copy_into(const TensorInfo& info, at::Tensor& target) const;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes `tensors` (any device; copied to the CPU) in canonical form, the bytes the reference
// Python implementation writes for the same tensors: tensors ordered by dtype (F32, BF16, F16, I8,
// U8) then name, so each is aligned; compact header padded with spaces to a multiple of 8 bytes.
// The file is written under a temporary name and renamed, so a reader never sees half a file.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

enum class DTypeConversion : std::uint8_t {
  kReject,   // a file dtype unlike the target's is an error
  kConvert,  // cast to the target's dtype (e.g. F32 weights into a bf16 model)
};
enum class ExtraTensors : std::uint8_t {
  kReject,  // a tensor in the file that no target names is an error
  kIgnore,
};
struct LoadOptions {
  DTypeConversion dtype_conversion = DTypeConversion::kReject;
  ExtraTensors extra_tensors = ExtraTensors::kReject;
  ReadMode read_mode = ReadMode::kMmap;
};

// Fills every target (e.g. a module's named parameters and buffers, which share storage with the
// map's tensors) from `path`. All names, shapes and dtypes are checked before any target is
// written; one SafetensorsError then lists every problem (missing, extra, mis-shaped tensors,
// wrong dtypes), each naming the tensor.
void load_into(const NamedTensors& targets, const std::filesystem::path& path,
               const LoadOptions& options = {});

}  // namespace sagegen::io
