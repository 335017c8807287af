// SafetensorsFile: validates the whole header on open, then serves tensors from a memory
// mapping or from seek-and-read on a stream.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>

#include "mapped_file.h"
#include "safetensors_error.h"
#include "safetensors_header.h"
#include "sagegen/io/safetensors.h"

namespace sagegen::io {

// The format stores little-endian bytes and tensors are handed to torch as they lie in the file.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors IO assumes a little-endian host");

using detail::throw_safetensors_error;

struct SafetensorsFile::Impl {
  std::filesystem::path path;
  std::string file;  // path as text, for messages
  ReadMode mode = ReadMode::kMmap;
  std::vector<TensorInfo> tensors;
  Metadata metadata;
  std::uint64_t data_start = 0;  // 8 + header length: where data_offsets count from

  detail::MappedFile mapping;   // kMmap
  mutable std::ifstream stream;  // kStream: one reader at a time
  mutable std::mutex stream_mutex;

  // Copies the tensor's bytes to `destination` (info.end - info.begin bytes).
  void read_bytes(const TensorInfo& info, void* destination) const {
    const std::uint64_t bytes = info.end - info.begin;
    if (bytes == 0) return;
    if (mode == ReadMode::kMmap) {
      std::memcpy(destination, mapping.data() + data_start + info.begin, bytes);
      return;
    }
    std::lock_guard<std::mutex> lock(stream_mutex);
    stream.clear();
    stream.seekg(static_cast<std::streamoff>(data_start + info.begin));
    stream.read(static_cast<char*>(destination), static_cast<std::streamsize>(bytes));
    if (!stream || static_cast<std::uint64_t>(stream.gcount()) != bytes) {
      throw_safetensors_error(file, "tensor '{}': short read of {} bytes at offset {} (file changed?)",
                              info.name, bytes, data_start + info.begin);
    }
  }
};


SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path, ReadMode mode) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = path.string();
  impl->mode = mode;
  const std::string& file = impl->file;

  std::uint64_t file_size = 0;
  std::string header_json;
  if (mode == ReadMode::kMmap) {
    impl->mapping = detail::MappedFile(path);
    file_size = impl->mapping.size();
    const std::uint64_t header_length =
        file_size >= detail::kHeaderLengthBytes ? detail::decode_header_length(impl->mapping.data()) : 0;
    detail::check_header_length(header_length, file_size, file);
    header_json.assign(reinterpret_cast<const char*>(impl->mapping.data()) + detail::kHeaderLengthBytes,
                       header_length);
  } else {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
      throw_safetensors_error(file, "cannot open: {}", std::filesystem::exists(path, error)
                                                           ? "not a regular file"
                                                           : "no such file");
    }
    file_size = std::filesystem::file_size(path, error);
    if (error) throw_safetensors_error(file, "cannot read its size: {}", error.message());
    impl->stream.open(path, std::ios::binary);
    if (!impl->stream) throw_safetensors_error(file, "cannot open for reading");
    unsigned char prefix[detail::kHeaderLengthBytes] = {};
    if (file_size >= detail::kHeaderLengthBytes) {
      impl->stream.read(reinterpret_cast<char*>(prefix), sizeof(prefix));
    }
    const std::uint64_t header_length =
        file_size >= detail::kHeaderLengthBytes ? detail::decode_header_length(prefix) : 0;
    detail::check_header_length(header_length, file_size, file);
    header_json.resize(header_length);
    impl->stream.read(header_json.data(), static_cast<std::streamsize>(header_length));
    if (!impl->stream) throw_safetensors_error(file, "short read of the {}-byte header", header_length);
  }
  impl->data_start = detail::kHeaderLengthBytes + header_json.size();
  detail::ParsedHeader parsed =
      detail::parse_header(header_json, file_size - impl->data_start, file);
  impl->tensors = std::move(parsed.tensors);
  impl->metadata = std::move(parsed.metadata);
  return SafetensorsFile(std::move(impl));
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

const std::filesystem::path& SafetensorsFile::path() const { return impl_->path; }
const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->tensors; }
const Metadata& SafetensorsFile::metadata() const { return impl_->metadata; }

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(impl_->tensors.begin(), impl_->tensors.end(), name,
                             [](const TensorInfo& info, std::string_view key) { return info.name < key; });
  return it != impl_->tensors.end() && it->name == name ? &*it : nullptr;
}

at::Tensor SafetensorsFile::read(std::string_view name) const {
  const TensorInfo* info = find(name);
  if (info == nullptr) throw_safetensors_error(impl_->file, "no tensor '{}' in the file", name);
  at::Tensor tensor = at::empty(info->shape, at::TensorOptions().dtype(to_scalar_type(info->dtype)));
  impl_->read_bytes(*info, tensor.data_ptr());
  return tensor;
}

NamedTensors SafetensorsFile::read_all() const {
  NamedTensors tensors;
  for (const TensorInfo& info : impl_->tensors) tensors.emplace(info.name, read(info.name));
  return tensors;
}

void SafetensorsFile::copy_into(const TensorInfo& info, at::Tensor& target) const {
  if (!target.defined() || target.sizes() != at::IntArrayRef(info.shape)) {
    throw_safetensors_error(impl_->file, "tensor '{}': target has shape {}, the file [{}]", info.name,
                            target.defined() ? c10::str(target.sizes()) : std::string("(undefined)"),
                            fmt::join(info.shape, ", "));
  }
  const at::ScalarType type = to_scalar_type(info.dtype);
  const void* mapped = impl_->mode == ReadMode::kMmap && info.end > info.begin
                           ? impl_->mapping.data() + impl_->data_start + info.begin
                           : nullptr;
  at::NoGradGuard no_grad;  // targets are usually parameters that require grad
  // Torch kernels may assume aligned elements; the canonical layout is aligned, others may not be.
  if (mapped != nullptr && reinterpret_cast<std::uintptr_t>(mapped) % element_size(info.dtype) == 0) {
    // No copy of our own: torch reads the mapping directly while it converts into the target.
    at::Tensor view = at::from_blob(const_cast<void*>(mapped), info.shape, at::TensorOptions().dtype(type));
    target.copy_(view);
  } else {
    target.copy_(read(info.name));
  }
}

}  // namespace sagegen::io
