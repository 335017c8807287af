// The benchmark's option parser (bench/bench_options.h) run on arguments as a command line
// would give them, for the tests of its flags.
#pragma once

#include <string>
#include <vector>

#include "bench_options.h"

namespace sagegen::bench {

inline BenchOptions parse_bench_args(std::vector<std::string> args) {
  std::vector<char*> argv;
  static char program[] = "sagegen_bench_attention";
  argv.push_back(program);
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  return parse_options(static_cast<int>(argv.size()), argv.data(), &help);
}

}  // namespace sagegen::bench
