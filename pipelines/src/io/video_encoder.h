// The OpenCV part of video output, kept in one file so only it includes OpenCV.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <optional>
#include <string>

namespace sagegen::io::detail {

struct EncodedVideo {
  std::filesystem::path path;
  std::string codec;
};

// Encodes [F, H, W, 3] uint8 RGB frames: MP4/'mp4v' (AVI/MJPG when `path` ends in ".avi"),
// falling back to AVI/MJPG. nullopt when this build has no OpenCV or no container could be
// opened (the caller then writes frame PNGs).
std::optional<EncodedVideo> encode_video(const std::filesystem::path& path, const at::Tensor& frames,
                                         double fps);

}  // namespace sagegen::io::detail
