#include "command_line.h"

#include <array>
#include <filesystem>
#include <optional>
#include <string_view>

#include "did_you_mean.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

struct CommandName {
  Command command;
  std::string_view name;
};
constexpr std::array<CommandName, 7> kCommands{{{Command::kGenerate, "generate"},
                                                {Command::kBatch, "batch"},
                                                {Command::kBenchPipeline, "bench-pipeline"},
                                                {Command::kCalibrate, "calibrate"},
                                                {Command::kCompare, "compare"},
                                                {Command::kTrain, "train"},
                                                {Command::kEval, "eval"}}};

// Short flags, as in stable-diffusion.cpp (-v is verbose there and here; --version has no
// short form).
std::string_view long_name_of_short(std::string_view flag) {
  if (flag == "-p") return "prompt";
  if (flag == "-n") return "negative-prompt";
  if (flag == "-s") return "seed";
  if (flag == "-W") return "width";
  if (flag == "-H") return "height";
  if (flag == "-o") return "out";
  if (flag == "-m") return "model";
  if (flag == "-t") return "threads";
  if (flag == "-b") return "batch-count";
  if (flag == "-h") return "help";
  if (flag == "-v") return "verbose";
  return {};
}

// Long spellings of the same flag: the design's --cfg and stable-diffusion.cpp's names.
std::string canonical_key(const std::string& key) {
  if (key == "cfg") return "cfg-scale";
  if (key == "video-frames") return "frames";
  if (key == "flow-shift") return "shift";
  if (key == "output") return "out";
  return key;
}

bool is_switch(std::string_view key) {
  return key == "help" || key == "version" || key == "overwrite" || key == "verbose" ||
         key == "strict-prompt";
}

bool is_run_key(std::string_view key) {
  return key == "out" || key == "log-level" || key == "threads" || key == "batch-count" ||
         key == "sampling-method";
}

// Every long flag of generate/batch (and bench-pipeline's with `bench`), for "did you mean".
std::vector<std::string> known_flags(bool bench) {
  std::vector<std::string> names = generation_keys();
  for (const char* name : {"out", "output", "log-level", "threads", "batch-count",
                           "sampling-method", "help", "version", "overwrite", "verbose",
                           "strict-prompt", "cfg", "video-frames", "flow-shift"}) {
    names.emplace_back(name);
  }
  if (bench) names.insert(names.end(), {"variants", "warmup", "repeat"});
  return names;
}

[[noreturn]] void unknown_flag(const std::string& flag, const std::string& key, bool bench) {
  const std::string near = key.empty() ? "" : nearest_name(key, known_flags(bench));
  throw UsageError("unknown flag '" + flag + "' (" +
                   (near.empty() ? "" : "did you mean --" + near + "? ") + "see sagegen --help)");
}

// stable-diffusion.cpp's samplers; sagegen's flow-matching models have one, Euler.
void check_sampling_method(const std::string& value, const std::string& where) {
  if (value == "euler") return;
  throw UsageError(where + ": '" + value +
                   "' is not available: sagegen samples flow-matching models with 'euler' only");
}

bool is_bench_key(std::string_view key) {
  return key == "variants" || key == "warmup" || key == "repeat";
}

std::string command_names() {
  std::string out;
  for (const auto& c : kCommands) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

std::vector<sageattn::Variant> parse_variant_list(const std::string& text,
                                                  const std::string& where) {
  std::vector<sageattn::Variant> variants;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string name =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    variants.push_back(parse_attention_variant(name, where));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return variants;
}

spdlog::level::level_enum parse_log_level(const std::string& text, const std::string& where) {
  // spdlog::level::from_string maps unknown names to "off"; a typo must not silence the logs.
  constexpr std::array<std::string_view, 7> kNames{"trace", "debug", "info",    "warn",
                                                   "error", "critical", "off"};
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (text == kNames[i]) return static_cast<spdlog::level::level_enum>(i);
  }
  throw UsageError(where + ": unknown log level '" + text +
                   "' (one of: trace, debug, info, warn, error, critical, off)");
}

}  // namespace

std::string to_string(Command command) {
  for (const auto& c : kCommands) {
    if (c.command == command) return std::string(c.name);
  }
  return "?";
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  std::size_t i = 0;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    if (args[0] == "help") {
      cl.show_help = true;
      return cl;
    }
    bool known = false;
    for (const auto& c : kCommands) {
      if (args[0] == c.name) {
        cl.command = c.command;
        known = true;
      }
    }
    if (!known) {
      throw UsageError("unknown command '" + args[0] + "' (commands: " + command_names() + ")");
    }
    i = 1;
    if (cl.command == Command::kTrain || cl.command == Command::kEval) {
      cl.command_args.assign(args.begin() + 1, args.end());
      return cl;
    }
    // calibrate has its own flags too (calibrate_args.cpp).
    if (cl.command == Command::kCalibrate) {
      cl.command_args.assign(args.begin() + 1, args.end());
      return cl;
    }
    // compare has flags of its own (--variants, --tables); compare_options.cpp parses them.
    if (cl.command == Command::kCompare) {
      cl.command_args.assign(args.begin() + 1, args.end());
      return cl;
    }
  }

  std::vector<std::string> positionals;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      positionals.push_back(arg);
      continue;
    }
    std::string key;
    std::string flag = arg;  // as typed, for messages
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0) {
      key = arg.substr(2);
      const auto eq = key.find('=');
      if (eq != std::string::npos) {
        inline_value = key.substr(eq + 1);
        key = key.substr(0, eq);
        flag = "--" + key;
      }
    } else {
      key = std::string(long_name_of_short(arg));
      if (key.empty()) unknown_flag(arg, "", false);
    }
    key = canonical_key(key);
    const bool bench = cl.command == Command::kBenchPipeline;

    if (is_switch(key)) {
      if (inline_value) throw UsageError(flag + ": takes no value");
      if (key == "help") cl.show_help = true;
      if (key == "version") cl.show_version = true;
      if (key == "overwrite") cl.overwrite = true;
      if (key == "verbose") cl.log_level = spdlog::level::debug;
      if (key == "strict-prompt") cl.strict_prompt = true;
      continue;
    }
    const bool known = is_generation_key(key) || is_run_key(key) || (bench && is_bench_key(key));
    if (!known) unknown_flag(flag, key, bench);
    if (!inline_value && i + 1 >= args.size()) throw UsageError(flag + ": missing value");
    const std::string value = inline_value ? *inline_value : args[++i];

    if (is_generation_key(key)) {
      apply_generation_setting(cl.settings, key, value, flag);
      cl.generation_flags.emplace_back(key, value);
    } else if (key == "out") {
      if (value.empty()) throw UsageError(flag + ": empty path");
      cl.out = value;
    } else if (key == "log-level") {
      cl.log_level = parse_log_level(value, flag);
    } else if (key == "threads") {
      cl.threads = parse_int_at_least(value, 1, flag);
    } else if (key == "batch-count") {
      cl.batch_count = parse_int_at_least(value, 1, flag);
    } else if (key == "sampling-method") {
      check_sampling_method(value, flag);
    } else if (key == "variants") {
      cl.bench.variants = parse_variant_list(value, flag);
    } else if (key == "warmup") {
      cl.bench.warmup_steps = parse_int_at_least(value, 0, flag);
    } else if (key == "repeat") {
      cl.bench.timed_steps = parse_int_at_least(value, 1, flag);
    }
  }
  if (cl.show_help || cl.show_version) return cl;

  if (cl.command == Command::kBatch) {
    if (positionals.empty()) throw UsageError("batch: missing the batch file (sagegen batch FILE.yaml)");
    if (positionals.size() > 1) throw UsageError("batch: unexpected argument '" + positionals[1] + "'");
    cl.batch_file = positionals[0];
    std::error_code ec;
    if (!std::filesystem::is_regular_file(cl.batch_file, ec)) {
      throw UsageError("batch: batch file '" + cl.batch_file + "' does not exist");
    }
  } else if (!positionals.empty()) {
    throw UsageError("unexpected argument '" + positionals[0] +
                     "' (quote the prompt: -p \"...\")");
  }
  if (cl.batch_count > 1 && cl.command != Command::kGenerate) {
    throw UsageError("--batch-count: for generate only (a batch file lists its jobs)");
  }
  if (cl.command == Command::kGenerate) validate_settings(cl.settings, "generate");
  return cl;
}

}  // namespace sagegen::cli
