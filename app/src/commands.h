// The sub-commands. Each returns the process exit code; UsageError and the pipeline's
// RequestError/ConfigError propagate to run_cli, which reports them and exits with 2.
#pragma once

#include "command_line.h"

namespace sagegen::cli {

int run_generate(const CommandLine& cl);
int run_batch(const CommandLine& cl);
int run_bench_pipeline(const CommandLine& cl);
int run_train(const CommandLine& cl);
int run_eval(const CommandLine& cl);
int run_calibrate(const CommandLine& cl);
int run_compare(const CommandLine& cl);

}  // namespace sagegen::cli
