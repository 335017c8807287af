// Command-line options of sagegen_bench_attention: which shapes, variants and repetitions run.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sageattn/types.h"

namespace sagegen::bench {

struct BatchHeads {
  int64_t batch;
  int64_t heads;
};

struct BenchOptions {
  std::vector<BatchHeads> shapes{{2, 24}, {1, 12}};
  std::vector<int64_t> head_dims{64, 128};
  std::vector<int64_t> lengths{1024, 4096, 16384, 32768};
  std::vector<bool> causal{false, true};
  // sagegen variants by their names (sage2-8b, ...) and the torch baselines sdpa-flash,
  // sdpa-cudnn.
  std::vector<std::string> variants{"sage2-8b", "sage2-4b", "sage1", "fp16", "sdpa-flash",
                                    "sdpa-cudnn"};
  at::ScalarType dtype = at::kBFloat16;
  sageattn::Layout layout = sageattn::Layout::kHND;
  int warmup = 3;
  int iters = 10;
  bool gemm_ceiling = true;
  bool energy = false;  // the board's energy over the timed calls (bench_energy.h)
  std::string csv_path = "bench_attention.csv";
  std::string summary_path;  // a short per-shape table, empty: none
  bool accuracy_cases = false;  // the accuracy table of bench_accuracy_cases.h instead of timing
  // The accuracy table's random draws (one table each); empty: the documented draw,
  // kInputKindsSeed (bench_input_kinds.h).
  std::vector<int64_t> accuracy_seeds;
};

// Throws std::invalid_argument naming the flag and the bad value; prints help and exits only
// through the returned flag (main decides).
BenchOptions parse_options(int argc, char** argv, bool* help_requested);
std::string usage_text();

}  // namespace sagegen::bench
