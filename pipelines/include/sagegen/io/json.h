// JSON sidecars: pretty-printed (2-space indent), written atomically.
#pragma once

#include <filesystem>
#include <nlohmann/json_fwd.hpp>

namespace sagegen::io {

// Throws std::runtime_error naming the path when it cannot be written.
void write_json(const std::filesystem::path& path, const nlohmann::json& value);

// Throws std::runtime_error naming the path when it is missing or not JSON.
nlohmann::json read_json(const std::filesystem::path& path);

}  // namespace sagegen::io
