// sageattn::attention(): validate, select (selector.h), run the selected route.
#include "sageattn/attention.h"

#include <ATen/ATen.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>
#include <utility>

#include "cuda_backend.h"
#include "problem.h"
#include "reference/layout.h"
#include "selector.h"
#include "sageattn/reference.h"

namespace sageattn {
namespace {

// Bounds the [rows, L_k] score slab of the LSE pass to 256 Mi elements per chunk.
constexpr int64_t kLseChunkElements = int64_t{1} << 28;

// SDPA returns no LSE through its public op, so it is computed here in FP32 on q's device,
// chunked over query rows: logsumexp over keys of sm_scale * q.k with the same causal mask.
at::Tensor softmax_lse(const at::Tensor& q, const at::Tensor& k, const Problem& p) {
  const at::Tensor qf = q.to(at::kFloat);
  const at::Tensor kf =
      k.to(at::kFloat).repeat_interleave(p.heads_q / p.heads_kv, 1).transpose(2, 3);
  const int64_t rows_per_chunk =
      std::max<int64_t>(1, kLseChunkElements / (p.batch * p.heads_q * p.len_k));
  std::vector<at::Tensor> chunks;
  for (int64_t row = 0; row < p.len_q; row += rows_per_chunk) {
    const int64_t rows = std::min(rows_per_chunk, p.len_q - row);
    at::Tensor s = at::matmul(qf.narrow(2, row, rows), kf) * p.sm_scale;
    if (p.causal) {
      const auto opts = at::TensorOptions().dtype(at::kLong).device(q.device());
      const at::Tensor mask = at::arange(p.len_k, opts).unsqueeze(0) >
                              at::arange(row, row + rows, opts).unsqueeze(1);
      s.masked_fill_(mask, -std::numeric_limits<float>::infinity());
    }
    chunks.push_back(at::logsumexp(s, -1));
  }
  return at::cat(chunks, -1);
}

AttentionResult run_sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                         const Problem& p, const AttentionOptions& options) {
  const at::Tensor qh = reference::hnd_view(q, p.layout);  // [B, H, L, D] views
  const at::Tensor kh = reference::hnd_view(k, p.layout);
  const at::Tensor vh = reference::hnd_view(v, p.layout);
  AttentionResult r;
  const at::Tensor out = at::scaled_dot_product_attention(
      qh, kh, vh, /*attn_mask=*/std::nullopt, /*dropout_p=*/0.0, p.causal, p.sm_scale,
      /*enable_gqa=*/p.heads_q != p.heads_kv);
  r.out = reference::from_hnd(out, p.layout);
  if (options.return_lse) r.lse = softmax_lse(qh, kh, p);
  return r;
}

// A fallback is logged once per (asked variant, reason): a table runs thousands of calls.
void log_fallback_once(const Selection& s) {
  if (s.fallback.empty()) return;
  static std::mutex mutex;
  static std::set<std::pair<Variant, std::string>> logged;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!logged.emplace(s.requested, s.fallback).second) return;
  }
  // auto choosing fp16 is auto doing its job; an explicit variant not running is news.
  if (s.requested == Variant::kAuto) {
    spdlog::info("sageattn: {}", s.fallback);
  } else {
    spdlog::warn("sageattn: {}", s.fallback);
  }
}

AttentionResult run_selection(const Selection& selection, const Problem& problem,
                              const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const AttentionOptions& options) {
  AttentionOptions resolved = options;
  resolved.variant = selection.variant;
  switch (selection.route) {
    case Route::kGolden:
      return reference::golden_attention(q, k, v, resolved);
    case Route::kSdpa:
      return run_sdpa(q, k, v, problem, resolved);
    case Route::kCudaKernel:
      return cuda_backend::run(problem, selection.variant, selection.plan, q, k, v, resolved);
    case Route::kNone:
      break;
  }
  TORCH_CHECK(false, "sageattn::attention: ", selection.reason);
}

}  // namespace

AttentionResult attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const AttentionOptions& options) {
  const Problem problem = validate(q, k, v, options);
  const Selection selection = select_route(problem, options);
  log_fallback_once(selection);
  AttentionResult result = run_selection(selection, problem, q, k, v, options);
  result.variant = selection.variant;
  result.route = selection.route;
  return result;
}

void quantize_only(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const AttentionOptions& options) {
  const Problem problem = validate(q, k, v, options);
  const Selection selection = select_route(problem, options);
  TORCH_CHECK(selection.route == Route::kCudaKernel, "sageattn::quantize_only: variant ",
              to_string(selection.variant), " does not run the CUDA kernels here",
              selection.reason.empty() ? std::string() : ": " + selection.reason);
  AttentionOptions resolved = options;
  resolved.variant = selection.variant;
  cuda_backend::quantize_only(problem, selection.variant, selection.plan, q, k, v, resolved);
}

Selection select_route(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const AttentionOptions& options) {
  return select_route(validate(q, k, v, options), options);
}

std::string why_unsupported(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionOptions& options) {
  try {
    return select_route(validate(q, k, v, options), options).reason;
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
}

KernelNumerics kernel_numerics(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const AttentionOptions& options) {
  const Problem problem = validate(q, k, v, options);
  const Selection selection = select_route(problem, options);
  return selection.route == Route::kCudaKernel ? selection.plan.numerics : kMmaNumerics;
}

int cuda_arch(int device) {
  return cuda_backend::compiled() ? cuda_backend::device_facts(device).arch : 0;
}

}  // namespace sageattn
