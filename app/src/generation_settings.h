// The generation keys shared by command-line flags and batch files: one parser for both, so
// "--steps abc" and "steps: abc" are rejected by the same code with the same wording.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sagegen/request.h"

namespace sagegen::cli {

// The load options and generation request the keys fill, plus the keys that are not the
// pipeline's business. --table fills load.table: the table the pipeline loads and runs.
struct GenerationSettings {
  LoadOptions load;
  GenerateRequest request;
  std::string name;  // batch jobs only: output file stem; empty = derived from prompt and seed
  // Whether a prompt key was given at all: `--prompt ""` asks for an unconditional sample (the
  // model's empty caption, which training's caption dropout taught it), no prompt is an error.
  bool prompt_given = false;
};

// Keys as written in batch files; flags are the same names with "--" in front.
const std::vector<std::string>& generation_keys();
bool is_generation_key(std::string_view key);

// Applies one key. Throws UsageError("<where>: <what is wrong> ...") where `where` names the flag
// ("--steps") or the batch file position ("jobs.yaml:4: key 'steps'").
void apply_generation_setting(GenerationSettings& settings, std::string_view key,
                              const std::string& value, const std::string& where);

// Applying a key that names a file (model config path, weights, table) checks the file exists.
// validate_settings checks what needs every key at once (a prompt). Patch divisibility is checked
// once the model config is loaded.
void validate_settings(const GenerationSettings& settings, const std::string& where);

// "--size" / "size" as WxH, e.g. "64x64" or "832x480".
struct Size {
  int width;
  int height;
};
Size parse_size(const std::string& text, const std::string& where);

// Value parsers shared with the other flags; each throws UsageError naming `where`.
int parse_int_at_least(const std::string& text, int minimum, const std::string& where);
sageattn::Variant parse_attention_variant(const std::string& text, const std::string& where);

std::string to_string(DeviceChoice device);

}  // namespace sagegen::cli
