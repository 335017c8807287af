// Canonical safetensors: compact JSON header with "__metadata__" first and tensors in name order,
// padded with spaces so the data buffer starts 8-byte aligned; data in the same name order.
#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "atomic_output.h"
#include "safetensors_error.h"
#include "sagegen/io/safetensors.h"

namespace sagegen::io {

using detail::throw_safetensors_error;

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  const std::string file = path.string();
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;

  std::vector<at::Tensor> contiguous;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {  // std::map: already in name order
    if (name.empty() || name == "__metadata__") {
      throw_safetensors_error(file, "cannot save a tensor named '{}'", name);
    }
    if (!tensor.defined()) throw_safetensors_error(file, "tensor '{}' is undefined", name);
    const auto dtype = dtype_of(tensor.scalar_type());
    if (!dtype) {
      throw_safetensors_error(file, "tensor '{}' has dtype {}, not one of F32, F16, BF16, I8, U8",
                              name, c10::toString(tensor.scalar_type()));
    }
    at::Tensor cpu = tensor.detach().to(at::kCPU).contiguous();
    const std::uint64_t bytes = cpu.nbytes();
    header[name] = {{"dtype", to_string(*dtype)},
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
