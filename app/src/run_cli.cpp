#include "run_cli.h"

#include <ATen/Parallel.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "error_message.h"
#include "help_text.h"
#include "rank_launch.h"
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

// Intra-op threads: -t/--threads, else OMP_NUM_THREADS (which libtorch reads), else
// default_thread_count().
void set_up_threads(int requested) {
  if (requested > 0) {
    at::set_num_threads(requested);
  } else if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    at::set_num_threads(default_thread_count());
  }
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

int default_thread_count() {
  // Measured 2026-11-30 on the project's 2-core machine under a load of 12, with sagegen-tiny's
  // step shapes: 1 thread 30.8 ms per step, 2 threads 629 ms (OpenMP workers spin for cores
  // others hold). With more cores, half of them (not measured).
  const unsigned cores = std::thread::hardware_concurrency();
  return cores <= 4 ? 1 : static_cast<int>(cores / 2);
}

int run_cli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    // --gpus N (docs/multi-gpu.md): this process only starts and waits for N ranks.
    if (const auto ranks = take_gpus_flag(args)) {
      set_up_logging(spdlog::level::info);
      return launch_ranks(*ranks, args);
    }
    narrow_visible_gpus_for_rank();
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
    set_up_threads(cl.threads);
    return dispatch(cl);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "sagegen: error: %s\n", e.what());
    return kUsageExitCode;
  } catch (const RequestError& e) {
    std::fprintf(stderr, "sagegen: error: %s\n", cli_error_message(e).c_str());
    return kUsageExitCode;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "sagegen: error: %s\n", cli_error_message(e).c_str());
    return kUsageExitCode;
  } catch (const RunError& e) {
    std::fprintf(stderr, "sagegen: failed: %s\n", e.what());
    return kFailureExitCode;
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
