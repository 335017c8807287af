// Where one generation's files go: the image or video, the video's frame strip, the JSON sidecar.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace sagegen::cli {

struct OutputPaths {
  std::filesystem::path media;    // .png for an image, .mp4 (or .avi) for a video
  std::filesystem::path strip;    // video only: all frames side by side in one PNG (<stem>_strip.png)
  std::filesystem::path sidecar;  // .json, written last: its presence marks a finished output
};

// "a red circle, above!" + seed 7 -> "a-red-circle-above-s7"; at most ~48 characters of prompt.
std::string default_stem(const std::string& prompt, std::int64_t seed);

// out: a file path, a directory (existing, or ending in '/'), or empty for ./outputs/.
// A file path keeps its directory and stem; the extension follows what is written
// (.png for images, .mp4 for videos, or .avi when `video_extension` says so).
OutputPaths resolve_output_paths(const std::string& out, const std::string& stem, bool is_video,
                                 const std::string& video_extension = ".mp4");

// Throws UsageError("<flag>: '<path>' exists (pass --overwrite to replace it)") when `path` is
// set, exists and `overwrite` is off: every command refuses to replace a finished output alike.
void refuse_existing(const std::filesystem::path& path, const std::string& flag, bool overwrite);

// The paths for an output directory and a stem (batch jobs).
OutputPaths output_paths_in(const std::filesystem::path& dir, const std::string& stem,
                            bool is_video, const std::string& video_extension = ".mp4");

}  // namespace sagegen::cli
