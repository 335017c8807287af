// What the one selector decides for an attention request (ggml's best_kernel pattern): the route,
// the resolved variant and, on the CUDA kernel route, the kernel plan; with the reasons the other
// routes were not taken. attention(), why_unsupported(), kernel_numerics(), quantize_only(), the
// pipelines' attention context, the calibrator and the benchmark all read this one answer.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sageattn/tiles.h"
#include "sageattn/types.h"

namespace sageattn {

// The kernel the CUDA backend launches for a request on the kCudaKernel route.
struct KernelPlan {
  KernelFamily family = KernelFamily::kMma;  // resolved: kMma or kWgmma (tiles say 2 or 3 warpgroups)
  int padded_dim = 0;  // the kernel's head dim (64 or 128): channels are zero-padded up to it
  KernelNumerics numerics = kMmaNumerics;  // tiles, P scaling, PV accumulation of that kernel
};

struct Selection {
  Route route = Route::kNone;
  Variant requested = Variant::kAuto;  // options.variant as asked
  Variant variant = Variant::kFp16;    // what runs: never kAuto
  KernelPlan plan;                     // meaningful on Route::kCudaKernel only
  // Route kNone: the constraint that failed, in words. Otherwise empty.
  std::string reason;
  // Why the request does not run as asked (auto below its crossover, a head dim without a
  // kernel sent to SDPA, ...); empty when it runs as asked. Logged once per (variant, text).
  std::string fallback;
  // Each route or kernel family considered and not taken, with its reason, in the order tried.
  std::vector<std::string> rejected;

  // One line for logs and benchmarks: "sage2-8b on cuda-kernel (wgmma, hd 128, tiles 192x128)".
  std::string describe() const;
};

// What the selector needs to know about one CUDA device: queried once per device by the CUDA
// backend (cached for the process), or written by hand to ask the selector about an arch this
// machine does not have (tests).
struct DeviceFacts {
  int index = 0;
  int arch = 0;  // compute capability as one number (sm_90 -> 90); 0: no such device
  // Streaming multiprocessors: the wgmma plan splits the keys of a partial last wave of tiles
  // across the SMs it leaves idle (tiles.h KeySplit); 0: unknown, no split.
  int sm_count = 0;
  // Empty when this libsageattn has CUDA kernels; otherwise why not (a build without nvcc).
  std::string no_kernels;
  // Kernel images this build lacks for the device: (family kMma or kWgmma, variant, padded head
  // dim) -> the CUDA runtime's reason. Absent: the image is present.
  std::map<std::tuple<KernelFamily, Variant, int>, std::string> missing_images;
};

}  // namespace sageattn
