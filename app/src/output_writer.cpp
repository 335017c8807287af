#include "output_writer.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "sagegen/io/image.h"
#include "sagegen/io/json.h"
#include "sagegen/io/video.h"

namespace sagegen::cli {

void write_media(const GenerateResult& result, double fps, OutputPaths& paths) {
  if (!paths.media.parent_path().empty()) std::filesystem::create_directories(paths.media.parent_path());
  if (paths.strip.empty()) {  // an image
    io::write_png(paths.media, result.video[0]);
    return;
  }
  const io::VideoFiles files = io::write_video(paths.media, result.video, fps);
  paths.strip = files.strip;
  if (files.video) {
    paths.media = *files.video;
  } else {
    // Without a video encoder the frame PNGs and the strip are the output; the strip stands
    // for them in the summary and sidecar.
    paths.media = files.strip;
    spdlog::warn("no video encoder in this build: wrote {} frame PNGs and {}", files.frame_pngs.size(),
                 files.strip.string());
  }
}

void write_sidecar(const nlohmann::json& sidecar, const std::filesystem::path& path) {
  io::write_json(path, sidecar);
}

}  // namespace sagegen::cli
