#include "sagegen/train/train_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/yaml_errors.h"
#include "sagegen/errors.h"

namespace sagegen::train {
namespace {

namespace fs = std::filesystem;

std::string resolve_relative(const std::string& value, const std::string& base_dir) {
  const fs::path path(value);
  if (path.is_absolute() || base_dir.empty()) return value;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

double read_fraction(strict_yaml::StrictMap& map, const std::string& key, double upper_inclusive) {
  const double value = map.required_double(key);
  if (!(value >= 0.0 && value <= upper_inclusive)) {
    map.fail(key, fmt::format("must be in [0, {}], got {}", upper_inclusive, value));
  }
  return value;
}

double read_positive(strict_yaml::StrictMap& map, const std::string& key) {
  const double value = map.required_double(key);
  if (!(value > 0.0) || !std::isfinite(value)) {
    map.fail(key, fmt::format("must be a positive number, got {}", value));
  }
  return value;
}

std::vector<FramesMixEntry> read_frames_mix(const YAML::Node& node, const std::string& source) {
  if (!node.IsSequence() || node.size() == 0) {
    throw ConfigError(fmt::format("{}:{}: frames_mix: expected a non-empty list of "
                                  "{{frames, weight, batch, shift}}",
                                  source, node.Mark().line + 1));
  }
  std::vector<FramesMixEntry> mix;
  for (std::size_t i = 0; i < node.size(); ++i) {
    strict_yaml::StrictMap entry(node[i], source, fmt::format("frames_mix[{}]", i));
    FramesMixEntry e;
    e.frames = entry.required_int("frames", 1);
    if (entry.has("weight")) e.weight = read_positive(entry, "weight");
    if (entry.has("batch")) e.batch = entry.required_int("batch", 1);
    if (entry.has("shift")) e.shift = read_positive(entry, "shift");
    entry.reject_unknown_keys();
    mix.push_back(e);
  }
  return mix;
}

std::int64_t parse_integer(const std::string& value, std::int64_t min_value,
                           const std::string& flag) {
  errno = 0;
  char* end = nullptr;
  const long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE) {
    throw ConfigError(fmt::format("{}: expected an integer, got '{}'", flag, value));
  }
  if (parsed < min_value) {
    throw ConfigError(fmt::format("{}: must be >= {}, got {}", flag, min_value, parsed));
  }
  return parsed;
}

double parse_number(const std::string& value, const std::string& flag) {
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !std::isfinite(parsed)) {
    throw ConfigError(fmt::format("{}: expected a number, got '{}'", flag, value));
  }
  return parsed;
}

TrainConfig read_train_config(const std::string& yaml, const std::string& source_name,
                              const std::string& base_dir) {
  strict_yaml::StrictMap map(strict_yaml::parse_document(yaml, source_name), source_name, "");
  TrainConfig c;
  c.source_path = source_name;
  c.model = resolve_relative(map.required_string("model"), base_dir);
  if (map.has("init_weights")) {
    c.init_weights = resolve_relative(map.required_string("init_weights"), base_dir);
  }
  c.steps = map.required_int("steps", 1);
  c.batch = map.required_int("batch", 1);
  c.lr = read_positive(map, "lr");
  if (map.has("min_lr_ratio")) c.min_lr_ratio = read_fraction(map, "min_lr_ratio", 1.0);
  if (map.has("warmup")) c.warmup_steps = map.required_int("warmup", 0);
  if (map.has("schedule")) {
    const std::string schedule = map.required_string("schedule");
    if (schedule == "single") {
      c.schedule = ScheduleKind::kSingle;
    } else if (schedule == "per-run") {
      c.schedule = ScheduleKind::kPerRun;
    } else {
      map.fail("schedule", fmt::format("must be 'single' or 'per-run', got '{}'", schedule));
    }
  }
  if (map.has("weight_decay")) c.weight_decay = read_fraction(map, "weight_decay", 1.0);
  if (map.has("betas")) {
    const YAML::Node betas = map.required("betas");
    if (!betas.IsSequence() || betas.size() != 2) map.fail_at(betas, "betas", "expected [beta1, beta2]");
    c.beta1 = betas[0].as<double>();
    c.beta2 = betas[1].as<double>();
    if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1)) {
      map.fail_at(betas, "betas", fmt::format("each must be in [0, 1), got [{}, {}]", c.beta1, c.beta2));
    }
  }
  if (map.has("grad_clip")) {
    c.grad_clip = map.required_double("grad_clip");
    if (!(c.grad_clip >= 0)) map.fail("grad_clip", fmt::format("must be >= 0, got {}", c.grad_clip));
  }
  if (map.has("ema")) c.ema_decay = read_fraction(map, "ema", 1.0);
  if (map.has("caption_dropout")) c.caption_dropout = read_fraction(map, "caption_dropout", 1.0);
  if (map.has("logit_normal")) {
    strict_yaml::StrictMap ln = map.child("logit_normal");
    c.logit_normal_mean = ln.required_double("mean");
    c.logit_normal_std = read_positive(ln, "std");
    ln.reject_unknown_keys();
  }
  if (map.has("frames_mix")) c.frames_mix = read_frames_mix(map.required("frames_mix"), source_name);
  if (map.has("size")) c.size = map.required_int("size", 1);
  if (map.has("max_objects")) {
    c.max_objects = map.required_int("max_objects", 1);
    if (c.max_objects > 2) map.fail("max_objects", fmt::format("must be 1 or 2, got {}", c.max_objects));
  }
  if (map.has("two_object_share")) c.two_object_share = read_fraction(map, "two_object_share", 1.0);
  if (map.has("seed")) c.seed = static_cast<std::uint64_t>(map.required_int("seed", 0));
  if (map.has("log_every")) c.log_every = map.required_int("log_every", 1);
  if (map.has("save_every")) c.save_every = map.required_int("save_every", 0);
  if (map.has("data_threads")) c.data_threads = map.required_int("data_threads", 1);
  if (map.has("time_limit")) {
    c.time_limit_seconds = map.required_double("time_limit");
    if (!(c.time_limit_seconds >= 0)) {
      map.fail("time_limit", fmt::format("must be >= 0 seconds, got {}", c.time_limit_seconds));
    }
  }
  if (map.has("cuda_graphs")) {
    const std::string value = map.required_string("cuda_graphs");
    if (value != "true" && value != "false") {
      map.fail("cuda_graphs", fmt::format("must be true or false, got '{}'", value));
    }
    c.cuda_graphs = value == "true";
  }
  map.reject_unknown_keys();
  validate_train_config(c);
  return c;
}

}  // namespace

TrainConfig parse_train_config(const std::string& yaml, const std::string& source_name,
                               const std::string& base_dir) {
  return config::with_config_errors([&] { return read_train_config(yaml, source_name, base_dir); });
}

TrainConfig load_train_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open training config", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_train_config(text.str(), path, fs::path(path).parent_path().string());
}

void apply_train_setting(TrainConfig& config, const std::string& key, const std::string& value,
                         const std::string& flag) {
  if (key == "steps") {
    config.steps = parse_integer(value, 1, flag);
  } else if (key == "batch") {
    config.batch = static_cast<int>(parse_integer(value, 1, flag));
    // One batch size for every kind of the mix: the flag means "this many samples a step".
    for (auto& entry : config.frames_mix) entry.batch = 0;
  } else if (key == "lr") {
    config.lr = parse_number(value, flag);
    if (!(config.lr > 0)) throw ConfigError(fmt::format("{}: must be > 0, got {}", flag, value));
  } else if (key == "warmup") {
    config.warmup_steps = parse_integer(value, 0, flag);
  } else if (key == "ema") {
    config.ema_decay = parse_number(value, flag);
    if (!(config.ema_decay >= 0 && config.ema_decay <= 1)) {
      throw ConfigError(fmt::format("{}: must be in [0, 1], got {}", flag, value));
    }
  } else if (key == "seed") {
    config.seed = static_cast<std::uint64_t>(parse_integer(value, 0, flag));
  } else if (key == "log-every") {
    config.log_every = parse_integer(value, 1, flag);
  } else if (key == "save-every") {
    config.save_every = parse_integer(value, 0, flag);
  } else if (key == "grad-clip") {
    config.grad_clip = parse_number(value, flag);
    if (!(config.grad_clip >= 0)) throw ConfigError(fmt::format("{}: must be >= 0, got {}", flag, value));
  } else if (key == "caption-dropout") {
    config.caption_dropout = parse_number(value, flag);
    if (!(config.caption_dropout >= 0 && config.caption_dropout <= 1)) {
      throw ConfigError(fmt::format("{}: must be in [0, 1], got {}", flag, value));
    }
  } else if (key == "time-limit") {
    config.time_limit_seconds = parse_number(value, flag);
    if (!(config.time_limit_seconds >= 0)) {
      throw ConfigError(fmt::format("{}: must be >= 0 seconds, got {}", flag, value));
    }
  } else if (key == "cuda-graphs") {
    if (value != "on" && value != "off") {
      throw ConfigError(fmt::format("{}: expected on or off, got '{}'", flag, value));
    }
    config.cuda_graphs = value == "on";
  } else {
    throw ConfigError(fmt::format("{}: not a training setting", flag));
  }
}

void validate_train_config(const TrainConfig& c) {
  const std::string where = c.source_path.empty() ? "training config" : c.source_path;
  if (c.model.empty()) throw ConfigError(fmt::format("{}: model: missing", where));
  if (c.steps < 1) throw ConfigError(fmt::format("{}: steps: must be >= 1, got {}", where, c.steps));
  if (c.batch < 1) throw ConfigError(fmt::format("{}: batch: must be >= 1, got {}", where, c.batch));
  if (c.warmup_steps >= c.steps) {
    throw ConfigError(fmt::format("{}: warmup: {} must be below steps ({})", where,
                                  c.warmup_steps, c.steps));
  }
  if (c.frames_mix.empty()) throw ConfigError(fmt::format("{}: frames_mix: empty", where));
}

}  // namespace sagegen::train
