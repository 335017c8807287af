// Text files the commands write beside their images: CSV fields and the atomic write of a file.
#pragma once

#include <filesystem>
#include <string>

namespace sagegen::cli {

// One field of a CSV row (RFC 4180): quoted when it holds a comma, quote or line break, its
// quotes doubled; unchanged otherwise.
std::string csv_field(const std::string& text);

// Writes `text` to `path` atomically enough for figures (temp file, then rename).
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace sagegen::cli
