// A diffusers pipeline folder (what save_pretrained writes and the hub serves), read strictly:
// model_index.json names the pipeline class and, per component, [library, class] or
// [null, null]; each component lives in the sub-folder of its name with its own config.
// sagegen reads WanPipeline folders (Wan2.1 text-to-video).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sagegen::diffusers {

struct Component {
  std::string name;        // "transformer"
  std::string library;     // "diffusers", "transformers"; empty when absent ([null, null])
  std::string class_name;  // "WanTransformer3DModel"; empty when absent
  std::filesystem::path dir;
  bool present() const { return !class_name.empty(); }
};

struct DiffusersFolder {
  std::filesystem::path root;
  std::string pipeline_class;  // "WanPipeline"
  std::map<std::string, Component> components;  // every component WanPipeline has, absent or not

  // The component `name`, which must be present; else a ConfigError naming model_index.json.
  const Component& require(const std::string& name) const;
};

// True when `path` is a folder holding model_index.json.
bool is_diffusers_folder(const std::filesystem::path& path);

// Reads model_index.json. Errors (ConfigError naming the file and key): another pipeline class,
// a component sagegen does not know or whose class it cannot run (e.g. a Wan2.2 transformer_2,
// boundary_ratio or expand_timesteps), a component entry that is not [library, class], a
// present component without its folder.
DiffusersFolder read_diffusers_folder(const std::filesystem::path& path);

}  // namespace sagegen::diffusers
