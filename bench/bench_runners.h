// One attention implementation under test: a sagegen variant through the public API, or a
// torch SDPA backend called directly (no backend choice left to torch).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>

#include "sageattn/types.h"

namespace sagegen::bench {

struct Inputs {
  at::Tensor q, k, v;  // in the benchmark's layout
};

struct Runner {
  std::string name;
  // One attention call; the output in the benchmark's layout.
  std::function<at::Tensor(const Inputs&)> run;
  // The quantization kernels alone, to show their share of the call; empty where the library
  // exposes no quantization-only entry.
  std::function<void(const Inputs&)> quantize_only;
};

// name: a sagegen variant (sage2-8b, sage2-4b, sage1, fp16, auto) or sdpa-flash / sdpa-cudnn.
Runner make_runner(const std::string& name, sageattn::Layout layout, bool causal);

}  // namespace sagegen::bench
