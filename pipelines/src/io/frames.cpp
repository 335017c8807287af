// Frame sequences as PNGs: a strip of all frames, or one file per frame.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>

#include "sagegen/io/image.h"

namespace sagegen::io {

void write_frame_strip(const std::filesystem::path& path, const at::Tensor& frames) {
  const std::string what = fmt::format("write_frame_strip '{}'", path.string());
  check_rgb_uint8(frames, 4, what.c_str());
  const std::int64_t count = frames.size(0), height = frames.size(1), width = frames.size(2);
  // [F, H, W, 3] -> [H, F, W, 3] -> [H, F*W, 3]: row y of the strip is row y of every frame.
  write_png(path, frames.permute({1, 0, 2, 3}).reshape({height, count * width, 3}));
}

std::vector<std::filesystem::path> write_frame_pngs(const std::filesystem::path& path,
                                                    const at::Tensor& frames) {
  const std::string what = fmt::format("write_frame_pngs '{}'", path.string());
  check_rgb_uint8(frames, 4, what.c_str());
  const std::int64_t count = frames.size(0);
  const int digits = std::max<int>(3, static_cast<int>(fmt::format("{}", count - 1).size()));
  std::vector<std::filesystem::path> written;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::filesystem::path frame_path =
        path.parent_path() / fmt::format("{}_frame{:0{}}.png", path.stem().string(), i, digits);
    write_png(frame_path, frames[i]);
    written.push_back(frame_path);
  }
  return written;
}

}  // namespace sagegen::io
