// The parsed command line: which sub-command, its generation settings and its own options.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <spdlog/common.h>

#include "generation_settings.h"

namespace sagegen::cli {

enum class Command {
  kGenerate,
  kBatch,
  kBenchPipeline,
  kCalibrate,
  kCompare,
  kTrain,
  kEval,
};

std::string to_string(Command command);

struct BenchOptions {
  std::vector<sageattn::Variant> variants;  // empty: every variant this GPU runs
  int warmup_steps = 1;
  int timed_steps = 3;
};

struct CommandLine {
  Command command = Command::kGenerate;
  bool show_help = false;
  bool show_version = false;
  GenerationSettings settings;
  // Generation flags in the order given; batch replays them over every job (flags win).
  std::vector<std::pair<std::string, std::string>> generation_flags;
  std::string out;         // -o/--out: file or directory; empty = ./outputs/ (batch: out_dir)
  std::string batch_file;  // batch FILE.yaml
  bool overwrite = false;
  bool strict_prompt = false;  // words the model does not know are an error, not a warning
  int threads = 0;             // -t/--threads: intra-op threads; 0 = default_thread_count()
  int batch_count = 1;         // -b/--batch-count: images with seeds s, s+1, ... (generate)
  spdlog::level::level_enum log_level = spdlog::level::info;
  BenchOptions bench;
  // train, eval, calibrate, compare: the arguments after the command, parsed by their run_*
  // functions (their flags differ).
  std::vector<std::string> command_args;
};

// Parses argv (without argv[0]). Throws UsageError naming the flag and the bad value.
// generate, batch and bench-pipeline flags are declared once each (command_line.cpp,
// declare_flags) and parsed by CLI11 (flag_parser.h).
CommandLine parse_command_line(const std::vector<std::string>& args);

// Every long flag (without "--") that generate, batch or bench-pipeline declares; the help text
// is checked against it (tests/app), so the two cannot drift apart.
std::vector<std::string> declared_long_flags(Command command);

}  // namespace sagegen::cli
