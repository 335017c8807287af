#include "run_cli.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "help_text.h"
#include "sagegen/errors.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

void set_up_logging(spdlog::level::level_enum level) {
  // Logs go to stderr with the progress bar; stdout stays for results (tables, paths).
  auto logger = spdlog::stderr_color_mt("sagegen");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
}

int dispatch(const CommandLine& cl) {
  switch (cl.command) {
    case Command::kGenerate: return run_generate(cl);
    case Command::kBatch: return run_batch(cl);
    case Command::kBenchPipeline: return run_bench_pipeline(cl);
    case Command::kCalibrate: return run_calibrate(cl);
    case Command::kCompare: return run_compare(cl);
    case Command::kTrain: return run_train(cl);
    case Command::kEval: return run_eval(cl);
  }
  return kFailureExitCode;
}

}  // namespace

int run_cli(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    const CommandLine cl = parse_command_line(args);
    if (cl.show_help) {
      std::fputs(help_text().c_str(), stdout);
      return 0;
    }
    if (cl.show_version) {
      std::printf("%s\n", version_text().c_str());
      return 0;
    }
    set_up_logging(cl.log_level);
    return dispatch(cl);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "sagegen: error: %s\n", e.what());
    return kUsageExitCode;
  } catch (const RequestError& e) {
    std::fprintf(stderr, "sagegen: error: %s\n", e.what());
    return kUsageExitCode;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "sagegen: error: %s\n", e.what());
    return kUsageExitCode;
  } catch (const std::exception& e) {
    // c10::Error messages carry a C++ stack trace after the first line; users need the first.
    std::string message = e.what();
    const auto newline = message.find('\n');
    if (newline != std::string::npos) message.resize(newline);
    std::fprintf(stderr, "sagegen: failed: %s\n", message.c_str());
    return kFailureExitCode;
  }
}

}  // namespace sagegen::cli
