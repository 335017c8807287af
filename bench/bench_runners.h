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
  // The selector's decision for these inputs in one line (variant, route, kernel family and
  // tiles); empty for the SDPA backends called directly.
  std::function<std::string(const Inputs&)> describe;
};

// "sage2-8b@mma+smoothq" -> "sage2-8b" and "mma"; a name without '@' -> itself and "".
std::string variant_of(const std::string& name);
std::string kernel_family_of(const std::string& name);

// name: a sagegen variant (sage2-8b, sage2-4b, sage1, fp16, auto), optionally with @mma, @wgmma
// or @wgmma2 (options.kernel_family of its calls: mma.sync vs wgmma on sm_90, in one process),
// or sdpa-flash / sdpa-cudnn. An unknown variant or family throws std::invalid_argument.
Runner make_runner(const std::string& name, sageattn::Layout layout, bool causal);

}  // namespace sagegen::bench
