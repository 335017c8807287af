// PNG through libpng's simplified API (png_image): it reports errors in image.message instead of
// longjmp, which would skip C++ destructors.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "atomic_output.h"
#include "sagegen/io/image.h"

namespace sagegen::io {
namespace {

// A PNG may declare any size; refuse to allocate more than this for one image (16k x 16k RGB).
constexpr std::uint64_t kMaxReadPixels = 16384ull * 16384ull;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

void check_rgb_uint8(const at::Tensor& tensor, std::int64_t expected_dims, const char* what) {
  const char* layout = expected_dims == 3 ? "[H, W, 3]" : "[F, H, W, 3]";
  if (!tensor.defined()) {
    throw std::invalid_argument(fmt::format("{}: undefined tensor, expected {} uint8", what, layout));
  }
  if (tensor.dim() != expected_dims || tensor.size(-1) != 3 || tensor.numel() == 0) {
    throw std::invalid_argument(fmt::format("{}: shape {}, expected non-empty {} uint8", what,
                                            c10::str(tensor.sizes()), layout));
  }
  if (tensor.scalar_type() != at::kByte) {
    throw std::invalid_argument(fmt::format("{}: dtype {}, expected uint8 (Byte)", what,
                                            c10::toString(tensor.scalar_type())));
  }
  if (!tensor.device().is_cpu()) {
    throw std::invalid_argument(
        fmt::format("{}: tensor on {}, expected a CPU tensor", what, tensor.device().str()));
  }
}

void write_png(const std::filesystem::path& path, const at::Tensor& image) {
  const std::string what = fmt::format("write_png '{}'", path.string());
  check_rgb_uint8(image, 3, what.c_str());
  const at::Tensor pixels = image.contiguous();
  const std::int64_t height = pixels.size(0);
  const std::int64_t width = pixels.size(1);
  if (height > std::numeric_limits<png_uint_32>::max() / 4 || width > std::numeric_limits<png_uint_32>::max() / 4) {
    throw std::invalid_argument(fmt::format("{}: {}x{} is too large for PNG", what, width, height));
  }
  detail::AtomicOutput output(path);
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(output.temp_path().c_str(), "wb"));
  if (!file) {
    throw std::runtime_error(fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
  }
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(width);
  png.height = static_cast<png_uint_32>(height);
  png.format = PNG_FORMAT_RGB;
  const bool written = png_image_write_to_stdio(&png, file.get(), /*convert_to_8bit=*/0,
                                                pixels.const_data_ptr(), /*row_stride=*/0,
                                                /*colormap=*/nullptr) != 0;
  const bool closed = std::fclose(file.release()) == 0;
  if (!written || !closed) {
    throw std::runtime_error(fmt::format("cannot write '{}': {}", path.string(),
                                         written ? std::strerror(errno) : png.message));
  }
  output.commit();
}

at::Tensor read_png(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw std::runtime_error(fmt::format("cannot read PNG '{}': no such file", path.string()));
  }
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&png, path.c_str()) == 0) {
    throw std::runtime_error(fmt::format("cannot read PNG '{}': {}", path.string(), png.message));
  }
  if (static_cast<std::uint64_t>(png.width) * png.height > kMaxReadPixels) {
    png_image_free(&png);
    throw std::runtime_error(fmt::format("cannot read PNG '{}': {}x{} exceeds the size limit",
                                         path.string(), png.width, png.height));
  }
  png.format = PNG_FORMAT_RGB;
  at::Tensor image = at::empty({static_cast<std::int64_t>(png.height), static_cast<std::int64_t>(png.width), 3},
                               at::TensorOptions().dtype(at::kByte));
  const png_color black{0, 0, 0};
  if (png_image_finish_read(&png, &black, image.data_ptr(), /*row_stride=*/0, /*colormap=*/nullptr) == 0) {
    const std::string message = png.message;
    png_image_free(&png);
    throw std::runtime_error(fmt::format("cannot read PNG '{}': {}", path.string(), message));
  }
  return image;
}

}  // namespace sagegen::io
