#include "sagegen/io/text_file.h"

#include <fstream>
#include <stdexcept>

#include "atomic_output.h"

namespace sagegen::io {

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  detail::AtomicOutput output(path);
  {
    std::ofstream stream(output.temp_path(), std::ios::binary | std::ios::trunc);
    stream << text;
    stream.close();
    if (!stream) throw std::runtime_error("cannot write '" + path.string() + "': write failed");
  }
  output.commit();
}

}  // namespace sagegen::io
