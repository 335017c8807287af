#include "command_line.h"

#include <array>
#include <filesystem>
#include <string_view>

#include "common_flags.h"
#include "did_you_mean.h"
#include "flag_parser.h"
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

[[noreturn]] void unknown_flag(const std::string& flag, const std::string& key,
                               const std::vector<std::string>& known) {
  const std::string near = key.empty() ? "" : nearest_name(key, known);
  throw UsageError("unknown flag '" + flag + "' (" +
                   (near.empty() ? "" : "did you mean --" + near + "? ") + "see sagegen --help)");
}

// stable-diffusion.cpp's samplers; sagegen's flow-matching models have one, Euler.
void check_sampling_method(const std::string& value, const std::string& where) {
  if (value == "euler") return;
  throw UsageError(where + ": '" + value +
                   "' is not available: sagegen samples flow-matching models with 'euler' only");
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

// The flags of generate, batch and bench-pipeline (bench: its own three too), each declared once.
void declare_flags(FlagParser& flags, CommandLine& cl, bool bench) {
  declare_generation_flags(flags, cl.settings, {}, &cl.generation_flags);
  flags.add_value({"-o", "--out", "--output"}, [&cl](const std::string& value, const std::string& flag) {
    if (value.empty()) throw UsageError(flag + ": empty path");
    cl.out = value;
  });
  flags.add_value({"--log-level"}, [&cl](const std::string& value, const std::string& flag) {
    cl.log_level = parse_log_level(value, flag);
  });
  flags.add_value({"-t", "--threads"}, [&cl](const std::string& value, const std::string& flag) {
    cl.threads = parse_int_at_least(value, 1, flag);
  });
  flags.add_value({"-b", "--batch-count"}, [&cl](const std::string& value, const std::string& flag) {
    cl.batch_count = parse_int_at_least(value, 1, flag);
  });
  flags.add_value({"--sampling-method"}, [](const std::string& value, const std::string& flag) {
    check_sampling_method(value, flag);
  });
  flags.add_switch({"-h", "--help"}, [&cl] { cl.show_help = true; });
  flags.add_switch({"--version"}, [&cl] { cl.show_version = true; });
  flags.add_switch({"--overwrite"}, [&cl] { cl.overwrite = true; });
  flags.add_switch({"-v", "--verbose"}, [&cl] { cl.log_level = spdlog::level::debug; });
  flags.add_switch({"--strict-prompt"}, [&cl] { cl.strict_prompt = true; });
  if (!bench) return;
  flags.add_value({"--variants"}, [&cl](const std::string& value, const std::string& flag) {
    cl.bench.variants = parse_variant_list(value, flag);
  });
  flags.add_value({"--warmup"}, [&cl](const std::string& value, const std::string& flag) {
    cl.bench.warmup_steps = parse_int_at_least(value, 0, flag);
  });
  flags.add_value({"--repeat"}, [&cl](const std::string& value, const std::string& flag) {
    cl.bench.timed_steps = parse_int_at_least(value, 1, flag);
  });
}

}  // namespace

std::vector<std::string> declared_long_flags(Command command) {
  CommandLine scratch;
  FlagParser flags([](const std::string&, const std::string&) {});
  declare_flags(flags, scratch, command == Command::kBenchPipeline);
  return flags.long_names();
}

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

  const bool bench = cl.command == Command::kBenchPipeline;
  std::vector<std::string> known;
  FlagParser flags([&known](const std::string& flag, const std::string& key) {
    unknown_flag(flag, key, known);
  });
  declare_flags(flags, cl, bench);
  known = flags.long_names();
  const std::vector<std::string> positionals =
      flags.parse(std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(i), args.end()));
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
