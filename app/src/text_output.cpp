#include "text_output.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace sagegen::cli {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::path temp = path;
  temp += ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write '" + temp.string() + "': " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) throw std::runtime_error("cannot write '" + path.string() + "': " + ec.message());
}

}  // namespace sagegen::cli
