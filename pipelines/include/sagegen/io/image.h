// PNG images and frame sequences. Images are [H, W, 3] uint8 RGB tensors on the CPU; a sequence
// of frames is [F, H, W, 3]. Errors are std::runtime_error / std::invalid_argument naming the path
// or the tensor's shape and dtype.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace sagegen::io {

// Writes an [H, W, 3] uint8 CPU tensor as an 8-bit RGB PNG (libpng), atomically.
void write_png(const std::filesystem::path& path, const at::Tensor& image);

// Reads any PNG (grey, palette, alpha, 16-bit are converted; alpha composited onto black) as an
// [H, W, 3] uint8 CPU tensor.
at::Tensor read_png(const std::filesystem::path& path);

// All frames side by side, left to right in frame order: an [H, F*W, 3] PNG.
void write_frame_strip(const std::filesystem::path& path, const at::Tensor& frames);

// One PNG per frame next to `path`: "<stem>_frame000.png", "<stem>_frame001.png", ... (at least
// three digits). Returns the paths written, in frame order.
std::vector<std::filesystem::path> write_frame_pngs(const std::filesystem::path& path,
                                                    const at::Tensor& frames);

// Checks an image ([H, W, 3]) or frames ([F, H, W, 3]) tensor: uint8, CPU, non-empty.
// `what` names the argument in the message.
void check_rgb_uint8(const at::Tensor& tensor, std::int64_t expected_dims, const char* what);

}  // namespace sagegen::io
