// sagegen_bench_attention --accuracy-cases: every variant's whole output against exact FP64
// attention on the six input kinds of bench_input_kinds.h (the Hopper issue's accuracy table).
#pragma once

#include "bench_options.h"

namespace sagegen::bench {

// Prints one row per (input kind, variant) and writes them to options.csv_path.
int run_accuracy_cases(const BenchOptions& options);

}  // namespace sagegen::bench
