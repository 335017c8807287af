#include "sagegen/diffusers/folder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "sagegen/diffusers/json_config.h"
#include "sagegen/errors.h"

namespace sagegen::diffusers {
namespace {

struct ComponentRule {
  std::string name;
  std::string library;
  std::vector<std::string> classes;  // empty: must be [null, null]
};

// WanPipeline's components and the classes sagegen can run for each. The tokenizer may be
// absent (a folder whose prompts come as embeddings; generation from text then refuses).
const std::vector<ComponentRule>& wan_rules() {
  static const std::vector<ComponentRule> rules = {
      {"transformer", "diffusers", {"WanTransformer3DModel"}},
      {"scheduler", "diffusers", {"UniPCMultistepScheduler"}},
      {"text_encoder", "transformers", {"UMT5EncoderModel"}},
      {"tokenizer", "transformers", {"T5TokenizerFast", "T5Tokenizer", "AutoTokenizer"}},
      {"vae", "diffusers", {"AutoencoderKLWan"}},
      {"transformer_2", "", {}},  // Wan2.2's low-noise expert
  };
  return rules;
}

Component read_component(JsonConfig& index, const std::filesystem::path& root,
                         const ComponentRule& rule, const nlohmann::json& value) {
  Component component{rule.name, "", "", root / rule.name};
  const bool pair = value.is_array() && value.size() == 2;
  if (!pair || !((value[0].is_string() && value[1].is_string()) ||
                 (value[0].is_null() && value[1].is_null()))) {
    index.fail(rule.name, "expected [library, class] or [null, null], got " + value.dump());
  }
  if (value[0].is_null()) return component;
  component.library = value[0].get<std::string>();
  component.class_name = value[1].get<std::string>();
  if (rule.classes.empty()) {
    index.fail(rule.name, fmt::format("{} is not supported (Wan2.2's two-expert transformers are "
                                      "not part of sagegen; expected [null, null])",
                                      component.class_name));
  }
  if (component.library != rule.library ||
      std::find(rule.classes.begin(), rule.classes.end(), component.class_name) ==
          rule.classes.end()) {
    index.fail(rule.name, fmt::format("[{}, {}] is not supported (expected [{}, {}])",
                                      component.library, component.class_name, rule.library,
                                      fmt::join(rule.classes, " | ")));
  }
  if (!std::filesystem::is_directory(component.dir)) {
    index.fail(rule.name, fmt::format("the folder {} of this {} is missing",
                                      component.dir.string(), component.class_name));
  }
  return component;
}

}  // namespace

const Component& DiffusersFolder::require(const std::string& name) const {
  const auto it = components.find(name);
  if (it == components.end() || !it->second.present()) {
    throw ConfigError(fmt::format("{}: {}: this {} folder has no {}, which sagegen needs here",
                                  (root / "model_index.json").string(), name, pipeline_class,
                                  name));
  }
  return it->second;
}

bool is_diffusers_folder(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path / "model_index.json", error);
}

DiffusersFolder read_diffusers_folder(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) {
    throw ConfigError(fmt::format("{}: not a folder (a diffusers pipeline folder holds "
                                  "model_index.json)", path.string()));
  }
  JsonConfig index = JsonConfig::load(path / "model_index.json");
  DiffusersFolder folder;
  folder.root = path;
  folder.pipeline_class = index.expect_class({"WanPipeline"});
  index.expect("boundary_ratio", nullptr, "Wan2.2's two-expert switch is not part of sagegen");
  index.expect("expand_timesteps", false, "Wan2.2 TI2V's per-token timesteps are not supported");
  for (const ComponentRule& rule : wan_rules()) {
    if (!index.has(rule.name)) {
      if (rule.classes.empty()) {  // an optional component left out: listed as absent
        folder.components.emplace(rule.name, Component{rule.name, "", "", path / rule.name});
        continue;
      }
      index.fail(rule.name, "missing required key");
    }
    folder.components.emplace(rule.name,
                              read_component(index, path, rule, index.value(rule.name)));
  }
  index.finish();
  if (!folder.components.at("transformer").present()) {
    index.fail("transformer", "[null, null]: a WanPipeline folder without its transformer");
  }
  return folder;
}

}  // namespace sagegen::diffusers
