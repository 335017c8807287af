#include "output_paths.h"

#include <cctype>

#include "usage_error.h"

namespace sagegen::cli {
namespace {

constexpr std::size_t kMaxPromptChars = 48;

}  // namespace

std::string default_stem(const std::string& prompt, std::int64_t seed) {
  std::string slug;
  for (const char c : prompt) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      if (slug.size() >= kMaxPromptChars) break;
      slug += static_cast<char>(std::tolower(u));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) slug = "output";
  return slug + "-s" + std::to_string(seed);
}

OutputPaths output_paths_in(const std::filesystem::path& dir, const std::string& stem,
                            bool is_video, const std::string& video_extension) {
  OutputPaths paths;
  paths.media = dir / (stem + (is_video ? video_extension : ".png"));
  if (is_video) paths.strip = dir / (stem + "_strip.png");  // the name io::write_video gives it
  paths.sidecar = dir / (stem + ".json");
  return paths;
}

OutputPaths resolve_output_paths(const std::string& out, const std::string& stem, bool is_video,
                                 const std::string& video_extension) {
  if (out.empty()) return output_paths_in("outputs", stem, is_video, video_extension);
  std::error_code ec;
  if (out.back() == '/' || std::filesystem::is_directory(out, ec)) {
    return output_paths_in(out, stem, is_video, video_extension);
  }
  const std::filesystem::path file(out);
  std::string extension = video_extension;
  if (is_video && (file.extension() == ".mp4" || file.extension() == ".avi")) {
    extension = file.extension().string();
  }
  return output_paths_in(file.parent_path(), file.stem().string(), is_video, extension);
}

void refuse_existing(const std::filesystem::path& path, const std::string& flag, bool overwrite) {
  std::error_code ec;
  if (!path.empty() && !overwrite && std::filesystem::exists(path, ec)) {
    throw UsageError(flag + ": '" + path.string() + "' exists (pass --overwrite to replace it)");
  }
}

}  // namespace sagegen::cli
