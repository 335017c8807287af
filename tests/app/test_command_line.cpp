// The argument parser in-process: every value rule and every error names the flag.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "command_line.h"
#include "help_text.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

CommandLine parse(std::vector<std::string> args) { return parse_command_line(args); }

// The UsageError message, or "" when parsing succeeded.
std::string error_of(std::vector<std::string> args) {
  try {
    parse_command_line(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CommandLine, ShortAndLongFlagsFillTheRequest) {
  const auto cl = parse({"-p", "a red circle", "-n", "blur", "--steps", "7", "--cfg-scale", "3.5",
                         "-s", "-1", "-W", "32", "-H", "48", "--frames", "5", "--fps", "12",
                         "--shift", "2", "--attention", "fp16", "--device", "cpu", "-o", "x.png",
                         "--log-level", "warn", "--overwrite"});
  EXPECT_EQ(cl.command, Command::kGenerate);
  const auto& r = cl.settings.request;
  EXPECT_EQ(r.prompt, "a red circle");
  EXPECT_EQ(r.negative_prompt, "blur");
  EXPECT_EQ(r.steps, 7);
  EXPECT_DOUBLE_EQ(r.cfg_scale, 3.5);
  EXPECT_EQ(r.seed, -1);  // resolved to a random seed at run time, not by the parser
  EXPECT_EQ(r.width, 32);
  EXPECT_EQ(r.height, 48);
  EXPECT_EQ(r.frames, 5);
  EXPECT_DOUBLE_EQ(r.fps, 12);
  EXPECT_DOUBLE_EQ(r.shift, 2);
  ASSERT_TRUE(r.attention.has_value());
  EXPECT_EQ(*r.attention, sageattn::Variant::kFp16);
  EXPECT_EQ(cl.settings.load.device, DeviceChoice::kCpu);
  EXPECT_EQ(cl.out, "x.png");
  EXPECT_EQ(cl.log_level, spdlog::level::warn);
  EXPECT_TRUE(cl.overwrite);
}

TEST(CommandLine, SizeAndEqualsSyntax) {
  const auto cl = parse({"--prompt=a b", "--size=96x32", "--cfg", "2"});
  EXPECT_EQ(cl.settings.request.prompt, "a b");
  EXPECT_EQ(cl.settings.request.width, 96);
  EXPECT_EQ(cl.settings.request.height, 32);
  EXPECT_DOUBLE_EQ(cl.settings.request.cfg_scale, 2);
}

TEST(CommandLine, SubCommands) {
  EXPECT_EQ(parse({"generate", "-p", "x"}).command, Command::kGenerate);
  EXPECT_EQ(parse({"bench-pipeline", "--variants", "fp16,sage2-8b", "--repeat", "5"}).command,
            Command::kBenchPipeline);
  const auto bench = parse({"bench-pipeline", "--variants", "fp16,sage2-8b"});
  ASSERT_EQ(bench.bench.variants.size(), 2u);
  EXPECT_EQ(bench.bench.variants[1], sageattn::Variant::kSage2Int8);
  EXPECT_EQ(parse({"calibrate"}).command, Command::kCalibrate);
  EXPECT_TRUE(parse({"--help"}).show_help);
  EXPECT_TRUE(parse({"help"}).show_help);
  EXPECT_TRUE(parse({"batch", "--help"}).show_help);
  EXPECT_TRUE(parse({"--version"}).show_version);
}

// Issue 13 item 7: the spellings stable-diffusion.cpp users type.
TEST(CommandLine, StableDiffusionCppAliases) {
  const auto cl = parse({"-p", "x", "--video-frames", "5", "-b", "3", "-t", "1", "-m",
                         "sagegen-tiny", "--sampling-method", "euler", "--flow-shift", "3",
                         "--output", "o.png", "-v"});
  EXPECT_EQ(cl.settings.request.frames, 5);
  EXPECT_EQ(cl.batch_count, 3);
  EXPECT_EQ(cl.threads, 1);
  EXPECT_EQ(cl.settings.load.model, "sagegen-tiny");
  EXPECT_DOUBLE_EQ(cl.settings.request.shift, 3);
  EXPECT_EQ(cl.out, "o.png");
  EXPECT_EQ(cl.log_level, spdlog::level::debug);  // -v is verbose, as in sd.cpp
  EXPECT_FALSE(cl.show_version);
  EXPECT_TRUE(parse({"-p", "x", "--strict-prompt"}).strict_prompt);
  EXPECT_EQ(error_of({"-p", "x", "--sampling-method", "euler_a"}),
            "--sampling-method: 'euler_a' is not available: sagegen samples flow-matching models "
            "with 'euler' only");
  EXPECT_EQ(error_of({"-p", "x", "-t", "0"}), "-t: 0 is out of range (must be >= 1)");
  EXPECT_EQ(error_of({"batch", SAGEGEN_SOURCE_DIR "/CMakeLists.txt", "-b", "2"}),
            "--batch-count: for generate only (a batch file lists its jobs)");
}

TEST(CommandLine, UnknownFlagSuggestsTheNearest) {
  EXPECT_EQ(error_of({"-p", "x", "--frame", "3"}),
            "unknown flag '--frame' (did you mean --frames? see sagegen --help)");
  EXPECT_EQ(error_of({"-p", "x", "--cfg_scale", "3"}),
            "unknown flag '--cfg_scale' (did you mean --cfg-scale? see sagegen --help)");
  EXPECT_EQ(error_of({"-p", "x", "--sed=3"}),
            "unknown flag '--sed' (did you mean --seed? see sagegen --help)");
  EXPECT_EQ(error_of({"bench-pipeline", "--repaet", "3"}),
            "unknown flag '--repaet' (did you mean --repeat? see sagegen --help)");
  // Nothing close: no guess.
  EXPECT_EQ(error_of({"-p", "x", "--colour", "red"}), "unknown flag '--colour' (see sagegen --help)");
}

// Issue 13 items 2 and 8: numbers that cannot be meant say why.
TEST(CommandLine, NumbersOutOfRangeOrNotFinite) {
  EXPECT_EQ(error_of({"-p", "x", "--seed", "99999999999999999999"}),
            "--seed: 99999999999999999999 is out of range (a 64-bit signed integer)");
  EXPECT_EQ(error_of({"-p", "x", "--cfg-scale", "inf"}), "--cfg-scale: 'inf' must be a finite number");
  EXPECT_EQ(error_of({"-p", "x", "--fps", "-inf"}), "--fps: '-inf' must be a finite number");
  EXPECT_EQ(error_of({"-p", "x", "--shift", "1e999"}),
            "--shift: 1e999 is out of range (too large for a double)");
  EXPECT_EQ(error_of({"-p", "x", "--cfg-scale", "1e308"}),
            "--cfg-scale: 1e308 is out of range (at most 100 in magnitude; typical: 1 to 10)");
  EXPECT_EQ(error_of({"-p", "x", "--cfg", "-101"}),
            "--cfg: -101 is out of range (at most 100 in magnitude; typical: 1 to 10)");
  EXPECT_DOUBLE_EQ(parse({"-p", "x", "--cfg-scale", "100"}).settings.request.cfg_scale, 100);
}

TEST(CommandLine, ErrorsNameTheFlagAndTheValue) {
  EXPECT_EQ(error_of({"-p", "x", "--bogus", "1"}), "unknown flag '--bogus' (see sagegen --help)");
  EXPECT_EQ(error_of({"-p", "x", "-q"}), "unknown flag '-q' (see sagegen --help)");
  EXPECT_EQ(error_of({"-p", "x", "--steps"}), "--steps: missing value");
  EXPECT_EQ(error_of({"-p", "x", "--steps", "abc"}), "--steps: 'abc' is not an integer");
  EXPECT_EQ(error_of({"-p", "x", "--steps", "3.5"}), "--steps: '3.5' is not an integer");
  EXPECT_EQ(error_of({"-p", "x", "--steps", "0"}), "--steps: 0 is out of range (must be >= 1)");
  EXPECT_EQ(error_of({"-p", "x", "--frames", "0"}), "--frames: 0 is out of range (must be >= 1)");
  EXPECT_EQ(error_of({"-p", "x", "--cfg-scale", "nan"}), "--cfg-scale: 'nan' must be a finite number");
  EXPECT_EQ(error_of({"-p", "x", "--fps", "-3"}), "--fps: -3 must be > 0");
  EXPECT_EQ(error_of({"-p", "x", "--size", "64"}),
            "--size: '64' is not a size WIDTHxHEIGHT (e.g. 64x64)");
  EXPECT_EQ(error_of({"-p", "x", "--size", "64x0"}), "--size: 0 is out of range (must be >= 1)");
  EXPECT_EQ(error_of({"-p", "x", "--device", "tpu"}),
            "--device: unknown device 'tpu' (one of: auto, cpu, cuda)");
  EXPECT_EQ(error_of({"-p", "x", "--log-level", "loud"}),
            "--log-level: unknown log level 'loud' (one of: trace, debug, info, warn, error, "
            "critical, off)");
  EXPECT_EQ(error_of({"-p", "x", "--overwrite=yes"}), "--overwrite: takes no value");
  EXPECT_EQ(error_of({"frobnicate"}),
            "unknown command 'frobnicate' (commands: generate, batch, bench-pipeline, calibrate, "
            "compare, train, eval)");
  EXPECT_EQ(error_of({"-p", "x", "stray"}), "unexpected argument 'stray' (quote the prompt: -p \"...\")");
  EXPECT_EQ(error_of({"--steps", "4"}), "generate: no prompt given (-p/--prompt)");
  // An explicit empty prompt is a request (the unconditional sample), not a missing one.
  EXPECT_EQ(error_of({"-p", "", "--steps", "4"}), "");
  // Bench flags belong to bench-pipeline only.
  EXPECT_EQ(error_of({"-p", "x", "--repeat", "3"}), "unknown flag '--repeat' (see sagegen --help)");
}

TEST(CommandLine, BenchFlagErrors) {
  EXPECT_EQ(error_of({"bench-pipeline", "--variants", "fp16,int2"}).rfind(
                "--variants: unknown attention variant 'int2' (one of: ", 0),
            0u);
  EXPECT_EQ(error_of({"bench-pipeline", "--warmup", "-1"}),
            "--warmup: -1 is out of range (must be >= 0)");
  EXPECT_EQ(error_of({"bench-pipeline", "--repeat", "0"}),
            "--repeat: 0 is out of range (must be >= 1)");
  const auto defaults = parse({"bench-pipeline"});
  EXPECT_TRUE(defaults.bench.variants.empty());
  EXPECT_EQ(defaults.bench.warmup_steps, 1);
  EXPECT_EQ(defaults.bench.timed_steps, 3);
}

TEST(CommandLine, AttentionErrorListsTheVariants) {
  const std::string message = error_of({"-p", "x", "--attention", "int3"});
  EXPECT_EQ(message.rfind("--attention: unknown attention variant 'int3' (one of: ", 0), 0u)
      << message;
  for (const auto& name : sageattn::variant_names()) {
    EXPECT_NE(message.find(name), std::string::npos) << name;
  }
}

TEST(CommandLine, MissingFilesAreNamed) {
  EXPECT_EQ(error_of({"-p", "x", "--table", "/nonexistent/t.yaml"}),
            "--table: table file '/nonexistent/t.yaml' does not exist");
  EXPECT_EQ(error_of({"-p", "x", "--model", "/nonexistent/m.yaml"}),
            "--model: model config file '/nonexistent/m.yaml' does not exist");
  EXPECT_EQ(error_of({"-p", "x", "--model", "nowhere/w.safetensors"}),
            "--model: weights file 'nowhere/w.safetensors' does not exist");
  EXPECT_EQ(error_of({"-p", "x", "--weights", "w.safetensors"}),
            "--weights: weights file 'w.safetensors' does not exist");
  EXPECT_EQ(error_of({"batch"}), "batch: missing the batch file (sagegen batch FILE.yaml)");
  EXPECT_EQ(error_of({"batch", "/nonexistent/jobs.yaml"}),
            "batch: batch file '/nonexistent/jobs.yaml' does not exist");
}

TEST(CommandLine, BatchKeepsGenerationFlagsInOrderAsOverrides) {
  const auto cl = parse({"batch", SAGEGEN_SOURCE_DIR "/CMakeLists.txt", "--steps", "2", "--device",
                         "cpu"});
  EXPECT_EQ(cl.command, Command::kBatch);
  ASSERT_EQ(cl.generation_flags.size(), 2u);
  EXPECT_EQ(cl.generation_flags[0].first, "steps");
  EXPECT_EQ(cl.generation_flags[1].second, "cpu");
}

// The help text and the flag declarations cannot drift: every declared long flag is in the help,
// and every long flag the help's option lists name is declared.
TEST(CommandLine, HelpTextAndFlagDeclarationsAgree) {
  const std::string help = help_text();
  std::set<std::string> declared;
  for (const Command command : {Command::kGenerate, Command::kBenchPipeline}) {
    for (const std::string& name : declared_long_flags(command)) {
      declared.insert(name);
      EXPECT_NE(help.find("--" + name), std::string::npos) << "--" << name << " is not in the help";
    }
  }
  EXPECT_TRUE(declared.count("repeat")) << "bench-pipeline's own flags are declared";
  const std::string options = help.substr(help.find("generation options:"));
  const std::regex flag(R"(--([a-z][a-z0-9-]*))");
  for (auto it = std::sregex_iterator(options.begin(), options.end(), flag);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(declared.count((*it)[1].str())) << (*it)[0].str() << " is in the help, not declared";
  }
}

}  // namespace
}  // namespace sagegen::cli
