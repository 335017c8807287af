#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "config_search.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/errors.h"
#include "sagegen/pipeline.h"

namespace sagegen {
namespace {

namespace fs = std::filesystem;

void add_with_parents(fs::path dir, std::vector<fs::path>& roots) {
  for (; !dir.empty(); dir = dir.parent_path()) {
    roots.push_back(dir);
    if (dir == dir.parent_path()) break;
  }
}

// The running executable's folder (Linux), so a binary in build/app/ finds the repository's
// configs from any working directory.
fs::path executable_dir() {
  char buffer[4096];
  const ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (length <= 0) return {};
  return fs::path(std::string(buffer, static_cast<std::size_t>(length))).parent_path();
}

}  // namespace

std::vector<fs::path> config_search_roots() {
  std::error_code error;
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("SAGEGEN_ROOT"); env != nullptr && *env != '\0') {
    roots.emplace_back(env);
  }
  add_with_parents(fs::current_path(error), roots);
  add_with_parents(executable_dir(), roots);
  return roots;
}

std::string resolve_model_config(const std::string& model) {
  if (model.empty()) throw ConfigError({{"model", ""}}, "empty model name");
  std::error_code error;
  if (fs::is_regular_file(model, error)) return model;
  if (diffusers::is_diffusers_folder(model)) {
    // Read now, so a folder sagegen cannot run says why before anything else happens.
    const diffusers::DiffusersFolder folder = diffusers::read_diffusers_folder(model);
    return (folder.root / "model_index.json").string();
  }

  const bool looks_like_path = model.find('/') != std::string::npos ||
                               fs::path(model).extension() == ".yaml";
  if (looks_like_path) {
    throw ConfigError({{"model", model}}, "no such model config file");
  }
  std::string searched;
  for (const fs::path& root : config_search_roots()) {
    const fs::path candidate = root / "configs" / "models" / (model + ".yaml");
    if (fs::is_regular_file(candidate, error)) return candidate.string();
    if (searched.size() < 400) searched += fmt::format("\n  {}", candidate.string());
  }
  throw ConfigError(
      {{"model", model}},
      fmt::format("no model config named '{}.yaml' under configs/models/ of $SAGEGEN_ROOT, the "
                  "working directory, the executable's directory or their parents; searched:{}",
                  model, searched));
}

}  // namespace sagegen
