// The one selector behind attention() and why_unsupported(): both switch on select(), so
// "can it run?" and "run it" can never disagree (the ggml best_kernel pattern).
#pragma once

#include <string>

#include "problem.h"
#include "sageattn/types.h"

namespace sageattn {

enum class Route : std::uint8_t {
  kNone,        // nothing runs this request; Selection::reason says which constraint failed
  kGolden,      // the CPU golden model of Selection::variant
  kSdpa,        // at::scaled_dot_product_attention (variant fp16), any device
  kCudaKernel,  // cuda_backend::run
};

struct Selection {
  Route route = Route::kNone;
  Variant variant = Variant::kFp16;  // resolved: never kAuto
  std::string reason;                // set when route == kNone
};

// Engine kGolden -> golden; variant fp16 -> SDPA; CPU + quantized + engine auto -> golden;
// CUDA + quantized -> the CUDA kernel if cuda_backend accepts it; engine kernel on a non-CUDA
// device -> none. Variant auto resolves to sage2-8b where its kernel runs and, on an arch with
// measured crossovers (dispatch.cpp), where the sequence is long enough to beat SDPA; else fp16.
// CUDA + quantized + engine auto with a head dim no kernel takes (> 128) -> SDPA (fp16), with one
// warning per variant; engine kernel there -> none, naming the head dim.
Selection select(const Problem& problem, const AttentionOptions& options);

}  // namespace sageattn
