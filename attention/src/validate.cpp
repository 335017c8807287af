// Argument checks of sageattn::attention(): every message names the argument and its value.
#include <ATen/ATen.h>

#include <cmath>

#include "problem.h"

namespace sageattn {
namespace {

constexpr int64_t kMinHeadDim = 16;
constexpr int64_t kMaxHeadDim = 256;  // int dot products stay exact in FP32 up to here

bool supported_dtype(at::ScalarType t) {
  return t == at::kHalf || t == at::kBFloat16 || t == at::kFloat;
}

const char* layout_dims(Layout layout) {
  return layout == Layout::kNHD ? "[B, L, H, D] (NHD)" : "[B, H, L, D] (HND)";
}

void check_tensor(const at::Tensor& x, const char* name, Layout layout) {
  TORCH_CHECK(x.defined(), "sageattn::attention: ", name, " is an undefined tensor");
  TORCH_CHECK(x.dim() == 4, "sageattn::attention: ", name, " must have 4 dims ",
              layout_dims(layout), ", got ", x.dim(), " with shape ", x.sizes());
  TORCH_CHECK(supported_dtype(x.scalar_type()), "sageattn::attention: ", name, " has dtype ",
              x.scalar_type(), "; expected Half, BFloat16 or Float");
  TORCH_CHECK(x.numel() > 0, "sageattn::attention: ", name, " is empty, shape ", x.sizes());
  TORCH_CHECK(x.stride(3) == 1, "sageattn::attention: ", name,
              " must be contiguous in its last (head_dim) dim, got stride ", x.stride(3),
              " for shape ", x.sizes(), "; call .contiguous()");
}

}  // namespace

Problem validate(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                 const AttentionOptions& options) {
  const Layout layout = options.layout;
  check_tensor(q, "q", layout);
  check_tensor(k, "k", layout);
  check_tensor(v, "v", layout);
  TORCH_CHECK(k.scalar_type() == q.scalar_type(), "sageattn::attention: k has dtype ",
              k.scalar_type(), " but q has ", q.scalar_type());
  TORCH_CHECK(v.scalar_type() == q.scalar_type(), "sageattn::attention: v has dtype ",
              v.scalar_type(), " but q has ", q.scalar_type());
  TORCH_CHECK(k.device() == q.device(), "sageattn::attention: k is on ", k.device(),
              " but q is on ", q.device());
  TORCH_CHECK(v.device() == q.device(), "sageattn::attention: v is on ", v.device(),
              " but q is on ", q.device());

  const int64_t tdim = layout == Layout::kNHD ? 1 : 2;
  const int64_t hdim = layout == Layout::kNHD ? 2 : 1;
  Problem p;
  p.batch = q.size(0);
  p.heads_q = q.size(hdim);
  p.heads_kv = k.size(hdim);
  p.len_q = q.size(tdim);
  p.len_k = k.size(tdim);
  p.head_dim = q.size(3);
  p.dtype = q.scalar_type();
  p.device = q.device();
  p.layout = layout;
  p.causal = options.causal;

  TORCH_CHECK(k.size(0) == p.batch, "sageattn::attention: k has batch ", k.size(0),
              " but q has ", p.batch);
  TORCH_CHECK(v.size(0) == p.batch, "sageattn::attention: v has batch ", v.size(0),
              " but q has ", p.batch);
  TORCH_CHECK(v.size(hdim) == p.heads_kv, "sageattn::attention: v has ", v.size(hdim),
              " heads but k has ", p.heads_kv);
  TORCH_CHECK(p.heads_q % p.heads_kv == 0, "sageattn::attention: q has ", p.heads_q,
              " heads, not a multiple of k's ", p.heads_kv, " heads (GQA needs H_q % H_kv == 0)");
  TORCH_CHECK(v.size(tdim) == p.len_k, "sageattn::attention: v has ", v.size(tdim),
              " tokens but k has ", p.len_k);
  TORCH_CHECK(k.size(3) == p.head_dim, "sageattn::attention: k has head_dim ", k.size(3),
              " but q has ", p.head_dim);
  TORCH_CHECK(v.size(3) == p.head_dim, "sageattn::attention: v has head_dim ", v.size(3),
              " but q has ", p.head_dim);
  TORCH_CHECK(p.head_dim >= kMinHeadDim && p.head_dim <= kMaxHeadDim,
              "sageattn::attention: head_dim ", p.head_dim, " is outside [", kMinHeadDim, ", ",
              kMaxHeadDim, "]");

  p.sm_scale = options.sm_scale.value_or(1.0 / std::sqrt(static_cast<double>(p.head_dim)));
  TORCH_CHECK(std::isfinite(p.sm_scale) && p.sm_scale > 0.0,
              "sageattn::attention: options.sm_scale must be finite and > 0, got ", p.sm_scale);
  p.granularity = options.granularity.value_or(default_granularity(options.variant));
  p.smooth_q = options.smooth_q.value_or(default_smooth_q(options.variant));
  return p;
}

}  // namespace sageattn
