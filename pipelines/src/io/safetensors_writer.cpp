// Canonical safetensors, byte for byte what the reference implementation (Python safetensors 0.8)
// writes: compact JSON header with "__metadata__" first, tensors ordered by dtype (F32, BF16, F16,
// I8, U8: widest first, so every tensor stays aligned) then by name, header padded with spaces so
// the data buffer starts 8-byte aligned.
#include <ATen/ATen.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "atomic_output.h"
#include "safetensors_error.h"
#include "sagegen/io/safetensors.h"

namespace sagegen::io {
namespace {

// The reference implementation orders by its Dtype enum, descending; for these five that is
// F32 > BF16 > F16 > I8 > U8.
int layout_rank(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 0;
    case DType::kBF16: return 1;
    case DType::kF16: return 2;
    case DType::kI8: return 3;
    case DType::kU8: return 4;
  }
  return 5;
}

}  // namespace

using detail::throw_safetensors_error;

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  const std::string file = path.string();
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;

  struct Entry {
    const std::string* name;
    DType dtype;
    const at::Tensor* tensor;
  };
  std::vector<Entry> entries;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__") {
      throw_safetensors_error(file, "cannot save a tensor named '{}'", name);
    }
    if (!tensor.defined()) throw_safetensors_error(file, "tensor '{}' is undefined", name);
    const auto dtype = dtype_of(tensor.scalar_type());
    if (!dtype) {
      throw_safetensors_error(file, "tensor '{}' has dtype {}, not one of F32, F16, BF16, I8, U8",
                              name, c10::toString(tensor.scalar_type()));
    }
    entries.push_back({&name, *dtype, &tensor});
  }
  // std::map iterates in name order, so a stable sort by dtype keeps names sorted within a dtype.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return layout_rank(a.dtype) < layout_rank(b.dtype);
  });

  std::vector<at::Tensor> contiguous;
  std::uint64_t offset = 0;
  for (const Entry& entry : entries) {
    const std::string& name = *entry.name;
    const auto dtype = entry.dtype;
    at::Tensor cpu = entry.tensor->detach().to(at::kCPU).contiguous();
    const std::uint64_t bytes = cpu.nbytes();
    header[name] = {{"dtype", to_string(dtype)},
                    {"shape", cpu.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(cpu));
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // 8 + N stays a multiple of 8

  std::unique_ptr<detail::AtomicOutput> output;
  try {
    output = std::make_unique<detail::AtomicOutput>(path);
  } catch (const std::runtime_error& e) {
    throw SafetensorsError(e.what());
  }
  {
    std::ofstream stream(output->temp_path(), std::ios::binary | std::ios::trunc);
    if (!stream) throw_safetensors_error(file, "cannot open '{}' for writing", output->temp_path().string());
    unsigned char prefix[8];
    std::uint64_t length = header_text.size();
    for (unsigned char& byte : prefix) {
      byte = static_cast<unsigned char>(length & 0xff);
      length >>= 8;
    }
    stream.write(reinterpret_cast<const char*>(prefix), sizeof(prefix));
    stream.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const at::Tensor& tensor : contiguous) {
      stream.write(static_cast<const char*>(tensor.const_data_ptr()),
                   static_cast<std::streamsize>(tensor.nbytes()));
    }
    stream.close();
    if (!stream) throw_safetensors_error(file, "write failed (disk full?)");
  }
  output->commit();
}

}  // namespace sagegen::io
