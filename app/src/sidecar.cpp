#include "sidecar.h"

#include <fstream>
#include <map>
#include <mutex>

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

// {"name", "seconds", "peak_allocated_bytes", "peak_reserved_bytes"}; the peaks are null where
// they were not measured (the CPU).
nlohmann::json stage_json(const StageStats& stage) {
  nlohmann::json j = {{"name", stage.name}, {"seconds", stage.seconds}};
  j["peak_allocated_bytes"] =
      stage.measured_memory() ? nlohmann::json(stage.peak_allocated_bytes) : nlohmann::json();
  j["peak_reserved_bytes"] =
      stage.measured_memory() ? nlohmann::json(stage.peak_reserved_bytes) : nlohmann::json();
  return j;
}

}  // namespace

std::string reproduce_command(const LoadOptions& load, const GenerateRequest& request,
                              std::int64_t seed) {
  std::string cmd = "sagegen -p " + shell_quote(request.prompt);
  if (!request.negative_prompt.empty()) cmd += " -n " + shell_quote(request.negative_prompt);
  cmd += fmt::format(" --seed {} --steps {} --cfg-scale {:g} --shift {:g} --size {}x{}", seed,
                     request.steps, request.cfg_scale, request.shift, request.width,
                     request.height);
  if (request.frames > 1) cmd += fmt::format(" --frames {} --fps {:g}", request.frames, request.fps);
  cmd += " --model " + shell_quote(load.model);
  if (!load.weights.empty()) cmd += " --weights " + shell_quote(load.weights);
  const std::string& table = request.table.empty() ? load.table : request.table;
  if (!table.empty()) cmd += " --table " + shell_quote(table);
  if (request.attention) cmd += " --attention " + std::string(sageattn::to_string(*request.attention));
  cmd += " --device " + to_string(load.device);
  return cmd;
}

std::string file_hash(const std::string& path) {
  if (path.empty()) return "";
  static std::mutex mutex;
  static std::map<std::string, std::string> known;
  std::lock_guard<std::mutex> lock(mutex);
  const auto found = known.find(path);
  if (found != known.end()) return found->second;
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64 offset basis
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash = (hash ^ static_cast<unsigned char>(buffer[i])) * 1099511628211ULL;  // FNV prime
    }
  }
  return known[path] = fmt::format("{:016x}", hash);
}

nlohmann::json output_settings(const GenerateRequest& request, const Pipeline& pipeline) {
  nlohmann::json j;
  j["prompt"] = request.prompt;
  j["negative_prompt"] = request.negative_prompt;
  j["seed"] = request.seed;
  j["steps"] = request.steps;
  j["cfg_scale"] = request.cfg_scale;
  j["shift"] = request.shift;
  j["width"] = request.width;
  j["height"] = request.height;
  j["frames"] = request.frames;
  j["fps"] = request.fps;
  j["model_name"] = pipeline.model_name();
  j["model_config_hash"] = file_hash(pipeline.model_config_path());
  j["weights_hash"] = file_hash(pipeline.weights_path());
  j["table_hash"] = request.attention ? "" : file_hash(pipeline.table_path());
  j["attention_override"] =
      request.attention ? std::string(sageattn::to_string(*request.attention)) : "";
  return j;
}

std::string settings_difference(const nlohmann::json& sidecar, const nlohmann::json& settings) {
  for (const auto& [key, value] : settings.items()) {
    if (!sidecar.contains(key)) return fmt::format("{} missing in the sidecar", key);
    if (sidecar[key] != value) {
      return fmt::format("{} {} in the sidecar, {} now", key, sidecar[key].dump(), value.dump());
    }
  }
  return "";
}

nlohmann::json sidecar_json(const LoadOptions& load, const GenerateRequest& request,
                            const GenerateResult& result, const OutputPaths& paths,
                            const nlohmann::json& settings) {
  nlohmann::json j = settings;
  j["sagegen_version"] = SAGEGEN_VERSION;
  j["command"] = reproduce_command(load, request, result.seed);
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
  j["model"] = load.model;
  j["model_config"] = resolve_model_config(load.model);  // the file the name resolved to
  j["model_name"] = result.model_name;
  j["weights"] = load.weights;
  j["random_weights"] = result.random_weights;
  j["table"] = result.table_path;
  j["attention_override"] = result.attention_override;
  j["device_requested"] = to_string(load.device);
  j["device"] = result.device;
  j["attention_calls"] = result.attention_calls;
  j["unknown_words"] = result.unknown_words;
  j["words_outside_captions"] = result.words_outside_captions;
  j["timings"] = {{"seconds_total", result.seconds_total},
                  {"seconds_per_step", result.seconds_per_step},
                  {"step_seconds", result.step_seconds}};
  nlohmann::json stages = nlohmann::json::array();
  for (const StageStats& stage : result.stages) stages.push_back(stage_json(stage));
  j["timings"]["stages"] = stages;
  j["timings"]["load"] = stage_json(result.load);
  nlohmann::json files = {{"media", paths.media.generic_string()}};
  if (!paths.strip.empty()) files["frame_strip"] = paths.strip.generic_string();
  j["files"] = files;
  return j;
}

}  // namespace sagegen::cli
