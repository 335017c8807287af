// The one selector: for a validated problem and its options, which route runs (CUDA kernel and
// its plan, torch SDPA, the CPU golden model) and why not the others. attention(),
// why_unsupported(), kernel_numerics() and quantize_only() switch on it, and the CUDA backend
// launches the plan it returns, so "can it run?" and "run it" can never disagree.
#pragma once

#include "problem.h"
#include "sageattn/selection.h"
#include "sageattn/types.h"

namespace sageattn {

// The decision itself, a pure function of its arguments (testable on a machine without a GPU by
// passing the facts of any arch):
//   engine golden -> golden; variant fp16 -> SDPA; CPU + quantized + engine auto -> golden;
//   engine kernel on a non-CUDA device -> none; CUDA + quantized -> the CUDA kernel when one
//   takes the problem (family per options.kernel_family: wgmma on sm_90 for sage2-8b, mma.sync
//   otherwise); CUDA + quantized + engine auto with a head dim no kernel takes (> 128) -> SDPA
//   (fp16) with a fallback note; engine kernel there -> none, naming the head dim.
//   Variant auto resolves first: sage2-8b where its kernel runs and, on an arch with measured
//   crossovers, where the sequence is long enough to beat SDPA; fp16 otherwise.
// `facts` describes problem.device when it is a CUDA device (ignored otherwise).
Selection select_route(const Problem& problem, const AttentionOptions& options,
                       const DeviceFacts& facts);

// The same on this machine: the facts of problem.device come from the CUDA backend's per-device
// cache, and options.kernel_family kAuto takes SAGEATTN_KERNEL_FAMILY when it is set.
Selection select_route(const Problem& problem, const AttentionOptions& options);

// SAGEATTN_KERNEL_FAMILY, read once per process: kAuto when unset or "auto"; an unknown value
// throws c10::Error naming the variable and the accepted values.
KernelFamily kernel_family_from_env();

}  // namespace sageattn
