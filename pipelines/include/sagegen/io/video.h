// Video output: MP4 (OpenCV VideoWriter, 'mp4v'), AVI/MJPG where MP4 cannot be opened, and a PNG
// frame strip. Built without OpenCV, frame PNGs replace the video and a one-line notice says so.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sagegen::io {

enum class VideoEncoder : std::uint8_t {
  kAuto,       // OpenCV when this build has it; frame PNGs otherwise
  kFramePngs,  // never encode: frame PNGs (what a build without OpenCV does)
};

// Whether this build can encode video files (SAGEGEN_WITH_OPENCV).
bool video_encoding_available();

struct VideoFiles {
  std::optional<std::filesystem::path> video;  // the MP4 or AVI written, if any
  std::string codec;                           // "mp4v" or "MJPG"; empty without a video
  std::filesystem::path strip;                 // "<stem>_strip.png": all frames side by side
  std::vector<std::filesystem::path> frame_pngs;  // written when no video was
};

// `frames`: [F, H, W, 3] uint8 RGB on the CPU; fps > 0. `path` names the video: ".avi" asks for
// MJPG, anything else for MP4 (".mp4" added when it has no extension). When MP4 cannot be opened
// the AVI goes to the same stem with ".avi"; when neither can, frame PNGs are written instead.
VideoFiles write_video(const std::filesystem::path& path, const at::Tensor& frames, double fps,
                       VideoEncoder encoder = VideoEncoder::kAuto);

}  // namespace sagegen::io
