#include "video_encoder.h"

#if SAGEGEN_WITH_OPENCV
#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <vector>

#include "atomic_output.h"
#endif

namespace sagegen::io::detail {

#if SAGEGEN_WITH_OPENCV
namespace {

struct Container {
  std::string extension;
  std::string codec;
};

// Writes through a temporary name with the same extension (the container follows it); false when
// the writer cannot be opened or leaves an empty file.
bool try_encode(const std::filesystem::path& path, const Container& container, const at::Tensor& bgr,
                double fps) {
  AtomicOutput output(path);
  const int height = static_cast<int>(bgr.size(1));
  const int width = static_cast<int>(bgr.size(2));
  const auto& c = container.codec;
  cv::VideoWriter writer(output.temp_path().string(), cv::VideoWriter::fourcc(c[0], c[1], c[2], c[3]),
                         fps, cv::Size(width, height), /*isColor=*/true);
  if (!writer.isOpened()) return false;
  for (std::int64_t i = 0; i < bgr.size(0); ++i) {
    at::Tensor frame = bgr[i].contiguous();
    writer.write(cv::Mat(height, width, CV_8UC3, frame.data_ptr()));
  }
  writer.release();
  std::error_code error;
  if (std::filesystem::file_size(output.temp_path(), error) == 0 || error) return false;
  output.commit();
  return true;
}

}  // namespace

std::optional<EncodedVideo> encode_video(const std::filesystem::path& path, const at::Tensor& frames,
                                         double fps) {
  const at::Tensor bgr = frames.flip(-1).contiguous();  // OpenCV wants BGR
  std::vector<std::pair<std::filesystem::path, Container>> attempts;
  std::filesystem::path avi = path;
  avi.replace_extension(".avi");
  if (path.extension() != ".avi") {
    std::filesystem::path mp4 = path;
    if (!mp4.has_extension()) mp4 += ".mp4";
    attempts.push_back({mp4, {".mp4", "mp4v"}});
  }
  attempts.push_back({avi, {".avi", "MJPG"}});
  for (const auto& [target, container] : attempts) {
    if (try_encode(target, container, bgr, fps)) return EncodedVideo{target, container.codec};
    spdlog::warn("OpenCV could not write {} ('{}'); trying the next container", target.string(),
                 container.codec);
  }
  return std::nullopt;
}

#else

std::optional<EncodedVideo> encode_video(const std::filesystem::path&, const at::Tensor&, double) {
  return std::nullopt;
}

#endif

}  // namespace sagegen::io::detail
