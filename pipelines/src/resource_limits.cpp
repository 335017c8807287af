#include "resource_limits.h"

#include <ATen/DeviceAccelerator.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>

#include "sagegen/errors.h"

namespace sagegen {

std::uint64_t device_memory_bytes(const at::Device& device) {
  if (device.is_cpu()) {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page_size <= 0) return 0;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
  }
  try {
    return at::accelerator::getMemoryInfo(device.index() < 0 ? 0 : device.index()).second;
  } catch (const std::exception&) {
    return 0;  // an allocator that cannot say: the run itself will tell (out-of-memory guard)
  }
}

std::string format_bytes(double bytes) {
  constexpr std::array<const char*, 6> kUnits{"B", "kB", "MB", "GB", "TB", "PB"};
  std::size_t unit = 0;
  while (bytes >= 1000.0 && unit + 1 < kUnits.size()) {
    bytes /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.3g} {}", bytes, kUnits[unit]);
}

double estimated_parameters(const ModelConfig& config) {
  const DitConfig& d = config.dit;
  const double c = d.width;
  const double patch_values = static_cast<double>(d.patch.t) * d.patch.h * d.patch.w;
  // Self-attention q, k, v, o (4 c^2), cross-attention q, o from c and k, v from text_dim, FFN
  // up and down; norms and biases left out.
  const double per_block = 6.0 * c * c + 2.0 * c * d.text_dim + 2.0 * c * d.ffn_dim;
  const double dit = d.depth * per_block + (d.in_channels + d.out_channels) * patch_values * c;
  const TextEncoderConfig& t = config.text_encoder;
  const double w = t.width;
  const double text = t.layers * (4.0 * w * w + 2.0 * w * t.ffn_dim) + d.text_length * w;
  return dit + text;
}

void check_model_fits(const ModelConfig& config, int element_size, std::uint64_t memory_bytes,
                      const std::string& device_name) {
  const double parameters = estimated_parameters(config);
  const double bytes = parameters * element_size;
  if (memory_bytes == 0 || bytes <= static_cast<double>(memory_bytes)) return;
  throw ConfigError(fmt::format(
      "{}: dit depth {}, width {}, ffn_dim {} (text encoder: {} layers, width {}): at least "
      "{:.3g} parameters, {} at {} bytes each, more than the {} of memory on {}",
      config.source_path, config.dit.depth, config.dit.width, config.dit.ffn_dim,
      config.text_encoder.layers, config.text_encoder.width, parameters, format_bytes(bytes),
      element_size, format_bytes(static_cast<double>(memory_bytes)), device_name));
}

void check_request_fits(const GenerateRequest& request, const ModelConfig& config,
                        int element_size, std::uint64_t memory_bytes,
                        const std::string& device_name) {
  if (memory_bytes == 0) return;
  const Extent3& p = config.dit.patch;
  const Extent3& scale = config.latent_scale;
  const double frames_in_cells = std::max(request.frames - 1, 0) / scale.t + 1;
  const double tokens = std::floor(frames_in_cells / p.t) *
                        std::floor(request.height / scale.h / p.h) *
                        std::floor(request.width / scale.w / p.w);
  const double batch = request.cfg_scale != 1.0 ? 2.0 : 1.0;
  // Alive together in a block: the hidden states and q, k, v (4 c), or the FFN's hidden layer.
  const double per_token =
      4.0 * config.dit.width + std::max(config.dit.ffn_dim, config.dit.width);
  const double activations = batch * tokens * per_token * element_size;
  const double frames = static_cast<double>(request.frames) * request.width * request.height * 3;
  const double bytes = activations + frames;
  if (bytes <= static_cast<double>(memory_bytes)) return;
  throw RequestError(
      {{"width", std::to_string(request.width)},
       {"height", std::to_string(request.height)},
       {"frames", std::to_string(request.frames)}},
      fmt::format("needs at least {} ({:.3g} tokens per sample for model {}), more than the {} "
                  "of memory on {}",
                  format_bytes(bytes), tokens, config.name,
                  format_bytes(static_cast<double>(memory_bytes)), device_name));
}

}  // namespace sagegen
