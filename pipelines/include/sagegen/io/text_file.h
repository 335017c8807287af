// Text outputs (CSV figures) written atomically, as the images and sidecars are.
#pragma once

#include <filesystem>
#include <string>

namespace sagegen::io {

// Throws std::runtime_error naming the path when it cannot be written.
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace sagegen::io
