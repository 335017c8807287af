// The boundary between the device-independent dispatch and the CUDA kernels. Built from
// src/cuda/ when CUDA is compiled, from cuda_backend_stub.cpp otherwise.
#pragma once

#include <string>

#include "problem.h"
#include "sageattn/attention.h"
#include "sageattn/tiles.h"

namespace sageattn::cuda_backend {

// True when this build contains the CUDA kernels.
bool compiled();

// Empty when a CUDA kernel of `variant` runs this problem on the problem's device; otherwise
// the constraint that failed, in words ("sage2-4b needs sm_80 or newer, device 0 is sm_75").
std::string why_unsupported(const Problem& problem, Variant variant);

// The numerics (tiles, P scaling, PV accumulation) of the kernel run() would launch for this
// problem: kWgmmaNumerics for the sm_90a kernel, kMmaNumerics otherwise (also when nothing runs).
KernelNumerics numerics(const Problem& problem, Variant variant);

// sm version of a CUDA device (90 for sm_90); 0 when no CUDA kernels are compiled or the
// device does not exist.
int device_arch(int device);

// Runs the kernel; precondition: why_unsupported(problem, variant) is empty.
AttentionResult run(const Problem& problem, Variant variant, const at::Tensor& q,
                    const at::Tensor& k, const at::Tensor& v, const AttentionOptions& options);

// Only the quantization kernels run() would launch, their outputs discarded (the benchmark
// times them apart). Throws where run() would not use the kernels.
void quantize_only(const Problem& problem, Variant variant, const at::Tensor& q,
                   const at::Tensor& k, const at::Tensor& v, const AttentionOptions& options);

}  // namespace sageattn::cuda_backend
