#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "atomic_output.h"
#include "sagegen/io/json.h"

namespace sagegen::io {

void write_json(const std::filesystem::path& path, const nlohmann::json& value) {
  detail::AtomicOutput output(path);
  {
    std::ofstream stream(output.temp_path(), std::ios::trunc);
    if (!stream) throw std::runtime_error(fmt::format("cannot write '{}': open failed", path.string()));
    // Replace invalid UTF-8 (e.g. from a prompt) rather than throwing away the whole sidecar.
    stream << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    stream.close();
    if (!stream) throw std::runtime_error(fmt::format("cannot write '{}': write failed", path.string()));
  }
  output.commit();
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream stream(path);
  if (!stream) throw std::runtime_error(fmt::format("cannot read '{}': no such file", path.string()));
  try {
    return nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("'{}' is not JSON: {}", path.string(), e.what()));
  }
}

}  // namespace sagegen::io
