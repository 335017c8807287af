#include "generation_settings.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <spdlog/fmt/fmt.h>

#include "sageattn/types.h"
#include "sagegen/diffusers/folder.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::int64_t parse_int(const std::string& text, const std::string& where) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    throw UsageError(where + ": " + text + " is out of range (a 64-bit signed integer)");
  }
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError(where + ": '" + text + "' is not an integer");
  }
  return value;
}

double parse_number(const std::string& text, const std::string& where) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    throw UsageError(where + ": '" + text + "' is not a number");
  }
  if (std::isnan(value) || (std::isinf(value) && errno != ERANGE)) {
    throw UsageError(where + ": '" + text + "' must be a finite number");
  }
  if (errno == ERANGE && std::abs(value) > 1.0) {
    throw UsageError(where + ": " + text + " is out of range (too large for a double)");
  }
  return value;
}

double parse_positive_number(const std::string& text, const std::string& where) {
  const double value = parse_number(text, where);
  if (value <= 0) throw UsageError(where + ": " + text + " must be > 0");
  return value;
}

DeviceChoice parse_device(const std::string& text, const std::string& where) {
  if (text == "auto") return DeviceChoice::kAuto;
  if (text == "cpu") return DeviceChoice::kCpu;
  if (text == "cuda") return DeviceChoice::kCuda;
  throw UsageError(where + ": unknown device '" + text + "' (one of: auto, cpu, cuda)");
}

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A model given as a path (rather than a name under configs/models/) must exist.
bool looks_like_path(const std::string& model) {
  return model.find('/') != std::string::npos || ends_with(model, ".yaml") ||
         ends_with(model, ".yml");
}

void require_file(const std::string& path, const std::string& what, const std::string& where) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw UsageError(where + ": " + what + " file '" + path + "' does not exist");
  }
}

}  // namespace

int parse_int_at_least(const std::string& text, int minimum, const std::string& where) {
  const std::int64_t value = parse_int(text, where);
  if (value < minimum || value > std::numeric_limits<int>::max()) {
    throw UsageError(where + ": " + text + " is out of range (must be >= " +
                     std::to_string(minimum) + ")");
  }
  return static_cast<int>(value);
}

sageattn::Variant parse_attention_variant(const std::string& text, const std::string& where) {
  const auto variant = sageattn::parse_variant(text);
  if (!variant) {
    throw UsageError(where + ": unknown attention variant '" + text +
                     "' (one of: " + join(sageattn::variant_names()) + ")");
  }
  return *variant;
}

const std::vector<std::string>& generation_keys() {
  static const std::vector<std::string> keys = {
      "prompt", "negative-prompt", "seed",    "steps",   "cfg-scale", "shift",
      "width",  "height",          "size",    "frames",  "fps",       "model",
      "config", "weights",         "table",   "attention", "device"};
  return keys;
}

bool is_generation_key(std::string_view key) {
  for (const auto& k : generation_keys()) {
    if (k == key) return true;
  }
  return false;
}

Size parse_size(const std::string& text, const std::string& where) {
  const auto x = text.find_first_of("xX");
  if (x == std::string::npos) {
    throw UsageError(where + ": '" + text + "' is not a size WIDTHxHEIGHT (e.g. 64x64)");
  }
  return {parse_int_at_least(text.substr(0, x), 1, where),
          parse_int_at_least(text.substr(x + 1), 1, where)};
}

void apply_generation_setting(GenerationSettings& settings, std::string_view key,
                              const std::string& value, const std::string& where) {
  GenerateRequest& r = settings.request;
  if (key == "prompt") {
    r.prompt = value;
    settings.prompt_given = true;
  } else if (key == "negative-prompt") {
    r.negative_prompt = value;
  } else if (key == "seed") {
    r.seed = parse_int(value, where);
  } else if (key == "steps") {
    r.steps = parse_int_at_least(value, 1, where);
  } else if (key == "cfg-scale") {
    r.cfg_scale = parse_number(value, where);
    if (std::abs(r.cfg_scale) > kMaxCfgScale) {
      throw UsageError(where + ": " + value + " is out of range (at most " +
                       fmt::format("{:g}", kMaxCfgScale) + " in magnitude; typical: 1 to 10)");
    }
  } else if (key == "shift") {
    r.shift = parse_positive_number(value, where);
  } else if (key == "width") {
    r.width = parse_int_at_least(value, 1, where);
  } else if (key == "height") {
    r.height = parse_int_at_least(value, 1, where);
  } else if (key == "size") {
    const Size size = parse_size(value, where);
    r.width = size.width;
    r.height = size.height;
  } else if (key == "frames") {
    r.frames = parse_int_at_least(value, 1, where);
  } else if (key == "fps") {
    r.fps = parse_positive_number(value, where);
  } else if (key == "model") {
    // stable-diffusion.cpp habit: --model may name the weights file itself.
    if (ends_with(value, ".safetensors")) {
      require_file(value, "weights", where);
      settings.load.weights = value;
    } else {
      // A diffusers folder (model_index.json inside) is read by Pipeline::load.
      if (looks_like_path(value) && !diffusers::is_diffusers_folder(value)) {
        require_file(value, "model config", where);
      }
      settings.load.model = value;
    }
  } else if (key == "config") {
    require_file(value, "model config", where);
    settings.load.model = value;
  } else if (key == "weights") {
    require_file(value, "weights", where);
    settings.load.weights = value;
  } else if (key == "table") {
    require_file(value, "table", where);
    settings.load.table = value;
  } else if (key == "attention") {
    r.attention = parse_attention_variant(value, where);
  } else if (key == "device") {
    settings.load.device = parse_device(value, where);
  } else {
    throw UsageError(where + ": unknown key '" + std::string(key) + "'");
  }
}

void validate_settings(const GenerationSettings& settings, const std::string& where) {
  if (!settings.prompt_given) throw UsageError(where + ": no prompt given (-p/--prompt)");
}

std::string to_string(DeviceChoice device) {
  switch (device) {
    case DeviceChoice::kAuto: return "auto";
    case DeviceChoice::kCpu: return "cpu";
    case DeviceChoice::kCuda: return "cuda";
  }
  return "?";
}

}  // namespace sagegen::cli
