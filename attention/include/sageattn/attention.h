// The public entry point of libsageattn: one attention call for every variant and device.
#pragma once

#include <ATen/core/Tensor.h>

#include "sageattn/selection.h"
#include "sageattn/tiles.h"
#include "sageattn/types.h"

namespace sageattn {

struct AttentionResult {
  at::Tensor out;  // same dtype, layout and device as q
  at::Tensor lse;  // [B, H_q, L_q] float32, natural log; undefined unless return_lse
  // What actually ran (set by attention(); the golden model's own entry points leave them):
  // the resolved variant (never kAuto) and the route.
  Variant variant = Variant::kFp16;
  Route route = Route::kNone;
};

// q: [B, H_q, L_q, D] (HND) or [B, L_q, H_q, D] (NHD); k, v likewise with H_kv, L_k.
// fp16, bf16 or fp32; H_q a multiple of H_kv (GQA); L_q != L_k allowed; D in 16..256 for the
// golden model (why_unsupported() says whether a CUDA kernel takes a given head dim). The last
// dim must have stride 1. Every argument is validated; a bad one throws c10::Error naming the
// argument and the value. Routes (docs/numerics.md, "Dispatch"; select_route() below): CPU
// tensors with a quantized variant run the golden model, fp16 runs torch SDPA, CUDA tensors run
// the kernels. A fallback of the selection (e.g. a head dim without a kernel sent to SDPA) is
// logged once per (variant, reason).
AttentionResult attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const AttentionOptions& options = {});

// The decision attention() would take for this request, without running it: route, resolved
// variant, kernel plan and why not the other routes (selection.h). Throws c10::Error for
// arguments that fail validation.
Selection select_route(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const AttentionOptions& options);

// The same selector asked for a yes or no: empty when the request can run, otherwise the
// reason (which constraint failed, or the validation error) in words.
std::string why_unsupported(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionOptions& options);

// The numerics of the route attention() would take for this request (tiles.h): the kernel
// family's on the CUDA kernel route (kWgmmaNumerics for the sm_90a kernel), kMmaNumerics on every
// other route (the golden model's default). Kernel tests hand it to the golden model.
KernelNumerics kernel_numerics(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const AttentionOptions& options);

// The compute capability of CUDA device `device` as one number (sm_90 -> 90), or 0 when this
// libsageattn has no CUDA kernels or there is no such device (the calibrator's cost tables and
// error messages name the arch; without kernels it cannot be asked).
int cuda_arch(int device = 0);

// For benchmarks: runs only the quantization kernels that attention() would launch for this
// request on the CUDA kernel route and discards their outputs, so their share of a call can be
// timed. Throws c10::Error (with the selector's reason) when the request does not run a kernel.
void quantize_only(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const AttentionOptions& options);

}  // namespace sageattn
