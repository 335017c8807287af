#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "sagegen/io/image.h"
#include "sagegen/io/video.h"
#include "video_encoder.h"

namespace sagegen::io {

bool video_encoding_available() { return SAGEGEN_WITH_OPENCV != 0; }

VideoFiles write_video(const std::filesystem::path& path, const at::Tensor& frames, double fps,
                       VideoEncoder encoder) {
  const std::string what = fmt::format("write_video '{}'", path.string());
  check_rgb_uint8(frames, 4, what.c_str());
  if (!(fps > 0)) throw std::invalid_argument(fmt::format("{}: fps {} must be > 0", what, fps));

  VideoFiles files;
  if (encoder == VideoEncoder::kAuto && video_encoding_available()) {
    if (auto video = detail::encode_video(path, frames, fps)) {
      files.video = video->path;
      files.codec = video->codec;
    }
  } else if (encoder == VideoEncoder::kAuto) {
    spdlog::info("video: this build has no OpenCV, so MP4/AVI needs OpenCV; writing frame PNGs "
                 "and a strip for {}", path.string());
  }
  if (!files.video) files.frame_pngs = write_frame_pngs(path, frames);
  files.strip = path.parent_path() / (path.stem().string() + "_strip.png");
  write_frame_strip(files.strip, frames);
  return files;
}

}  // namespace sagegen::io
