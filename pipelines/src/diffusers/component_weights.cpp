#include "sagegen/diffusers/component_weights.h"

#include <fmt/format.h>

#include "sagegen/errors.h"
#include "sagegen/io/safetensors_index.h"

namespace sagegen::diffusers {

void load_component_weights(const io::NamedTensors& targets, const std::filesystem::path& dir,
                            const std::string& base_name) {
  io::LoadOptions options;
  options.dtype_conversion = io::DTypeConversion::kConvert;
  const std::filesystem::path single = dir / (base_name + ".safetensors");
  const std::filesystem::path index = dir / (base_name + ".safetensors.index.json");
  std::error_code error;
  if (std::filesystem::is_regular_file(index, error)) {
    io::load_into_sharded(targets, index, options);
  } else if (std::filesystem::is_regular_file(single, error)) {
    io::load_into(targets, single, options);
  } else {
    const bool pickled = std::filesystem::exists(dir / (base_name + ".bin"), error) ||
                         std::filesystem::exists(dir / (base_name + ".bin.index.json"), error);
    throw ConfigError(fmt::format(
        "{}: no weights: expected {}.safetensors or {}.safetensors.index.json{}", dir.string(),
        base_name, base_name,
        pickled ? " (the .bin files there are PyTorch pickles, which sagegen does not read; "
                  "convert them to safetensors)"
                : ""));
  }
}

}  // namespace sagegen::diffusers
