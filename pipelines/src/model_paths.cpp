#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "sagegen/errors.h"
#include "sagegen/pipeline.h"

namespace sagegen {

std::string resolve_model_config(const std::string& model) {
  namespace fs = std::filesystem;
  if (model.empty()) throw ConfigError("--model: empty model name");
  std::error_code error;
  if (fs::is_regular_file(model, error)) return model;

  const bool looks_like_path = model.find('/') != std::string::npos ||
                               fs::path(model).extension() == ".yaml";
  if (looks_like_path) {
    throw ConfigError(fmt::format("--model {}: no such model config file", model));
  }
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("SAGEGEN_ROOT"); env != nullptr && *env != '\0') {
    roots.emplace_back(env);
  }
  for (fs::path dir = fs::current_path(error); !dir.empty(); dir = dir.parent_path()) {
    roots.push_back(dir);
    if (dir == dir.parent_path()) break;
  }
  std::string searched;
  for (const fs::path& root : roots) {
    const fs::path candidate = root / "configs" / "models" / (model + ".yaml");
    if (fs::is_regular_file(candidate, error)) return candidate.string();
    if (searched.size() < 400) searched += fmt::format("\n  {}", candidate.string());
  }
  throw ConfigError(fmt::format(
      "--model {}: no model config named '{}.yaml' under configs/models/ of $SAGEGEN_ROOT, the "
      "working directory or its parents; searched:{}",
      model, model, searched));
}

}  // namespace sagegen
