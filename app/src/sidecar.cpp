#include "sidecar.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include "generation_settings.h"

namespace sagegen::cli {
namespace {

// Single quotes survive any shell; an embedded ' becomes '\''.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += (c == '\'' ? std::string("'\\''") : std::string(1, c));
  return out + "'";
}

}  // namespace

std::string reproduce_command(const GenerateRequest& request, std::int64_t seed) {
  std::string cmd = "sagegen -p " + shell_quote(request.prompt);
  if (!request.negative_prompt.empty()) cmd += " -n " + shell_quote(request.negative_prompt);
  cmd += fmt::format(" --seed {} --steps {} --cfg-scale {:g} --shift {:g} --size {}x{}", seed,
                     request.steps, request.cfg_scale, request.shift, request.width,
                     request.height);
  if (request.frames > 1) cmd += fmt::format(" --frames {} --fps {:g}", request.frames, request.fps);
  cmd += " --model " + shell_quote(request.model);
  if (!request.weights.empty()) cmd += " --weights " + shell_quote(request.weights);
  if (!request.table.empty()) cmd += " --table " + shell_quote(request.table);
  if (request.attention) cmd += " --attention " + std::string(sageattn::to_string(*request.attention));
  cmd += " --device " + to_string(request.device);
  return cmd;
}

nlohmann::json sidecar_json(const GenerateRequest& request, const GenerateResult& result,
                            const OutputPaths& paths) {
  nlohmann::json j;
  j["sagegen_version"] = SAGEGEN_VERSION;
  j["command"] = reproduce_command(request, result.seed);
  j["prompt"] = request.prompt;
  j["negative_prompt"] = request.negative_prompt;
  j["seed"] = result.seed;
  j["steps"] = result.steps;
  j["cfg_scale"] = request.cfg_scale;
  j["shift"] = request.shift;
  j["width"] = result.width;
  j["height"] = result.height;
  j["frames"] = result.frames;
  j["fps"] = request.fps;
  j["model"] = request.model;
  j["model_config"] = resolve_model_config(request.model);  // the file the name resolved to
  j["model_name"] = result.model_name;
  j["weights"] = request.weights;
  j["random_weights"] = result.random_weights;
  j["table"] = result.table_path;
  j["attention_override"] = result.attention_override;
  j["device_requested"] = to_string(request.device);
  j["device"] = result.device;
  j["attention_calls"] = result.attention_calls;
  j["timings"] = {{"seconds_total", result.seconds_total},
                  {"seconds_per_step", result.seconds_per_step},
                  {"step_seconds", result.step_seconds}};
  nlohmann::json files = {{"media", paths.media.generic_string()}};
  if (!paths.strip.empty()) files["frame_strip"] = paths.strip.generic_string();
  j["files"] = files;
  return j;
}

}  // namespace sagegen::cli
