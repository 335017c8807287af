// Writes a generation's files through the IO writers of libsagegen (pipelines/include/sagegen/io).
#pragma once

#include <filesystem>

#include <nlohmann/json_fwd.hpp>

#include "output_paths.h"
#include "sagegen/pipeline.h"

namespace sagegen::cli {

// An image -> PNG; a video -> the video file plus the frame strip PNG. Updates paths.media when
// the writer had to fall back to another container (AVI, or frame PNGs without OpenCV).
void write_media(const GenerateResult& result, double fps, OutputPaths& paths);

void write_sidecar(const nlohmann::json& sidecar, const std::filesystem::path& path);

}  // namespace sagegen::cli
