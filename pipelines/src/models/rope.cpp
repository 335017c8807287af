#include "sagegen/models/rope.h"

#include <ATen/ATen.h>

namespace sagegen::models {
namespace {

// Angles [positions, axis_dim / 2] in float64 (Wan computes its frequencies in float64).
at::Tensor axis_angles(std::int64_t positions, int axis_dim, double theta) {
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor exponents = at::arange(0, axis_dim, 2, f64) / axis_dim;
  const at::Tensor inv_freq = at::pow(theta, -exponents);
  return at::outer(at::arange(positions, f64), inv_freq);
}

}  // namespace

RopeAxisDims rope_axis_dims(int head_dim) {
  const int hw = 2 * (head_dim / 6);
  return RopeAxisDims{head_dim - 2 * hw, hw, hw};
}

RopeTables make_rope_tables(const Extent3& grid, int head_dim, double theta, int leading_tokens,
                            c10::Device device) {
  TORCH_CHECK(head_dim % 2 == 0 && head_dim >= 6, "make_rope_tables: head_dim must be even and "
              ">= 6, got ", head_dim);
  TORCH_CHECK(leading_tokens >= 0, "make_rope_tables: leading_tokens must be >= 0, got ",
              leading_tokens);
  const RopeAxisDims dims = rope_axis_dims(head_dim);
  const at::Tensor t = axis_angles(grid.t, dims.t, theta);  // [F, dt/2]
  const at::Tensor h = axis_angles(grid.h, dims.h, theta);  // [H, dh/2]
  const at::Tensor w = axis_angles(grid.w, dims.w, theta);  // [W, dw/2]
  const std::int64_t half = head_dim / 2;
  const at::Tensor angles = at::cat({t.view({grid.t, 1, 1, -1}).expand({grid.t, grid.h, grid.w, -1}),
                                     h.view({1, grid.h, 1, -1}).expand({grid.t, grid.h, grid.w, -1}),
                                     w.view({1, 1, grid.w, -1}).expand({grid.t, grid.h, grid.w, -1})},
                                    -1)
                                .reshape({-1, half});  // [F*H*W, D/2]
  const at::Tensor all = at::cat({at::zeros({leading_tokens, half}, angles.options()), angles});
  RopeTables tables{at::cos(all).to(device, at::kFloat), at::sin(all).to(device, at::kFloat), {}};
  tables.rotation = at::complex(tables.cos, tables.sin);
  return tables;
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& tables) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == tables.cos.size(0) &&
                  x.size(3) == 2 * tables.cos.size(1),
              "apply_rope: x must be [B, L, H, D] with L = ", tables.cos.size(0), " and D = ",
              2 * tables.cos.size(1), ", got ", x.sizes());
  // [B, L, H, D/2] complex: (x0 cos - x1 sin) + i (x0 sin + x1 cos), Wan's formula.
  const at::Tensor pairs = at::view_as_complex(x.to(at::kFloat).contiguous().unflatten(-1, {-1, 2}));
  // Tables built as {cos, sin} alone (a sequence-parallel shard) get their rotation here.
  const at::Tensor rotation =
      tables.rotation.defined() ? tables.rotation : at::complex(tables.cos, tables.sin);
  const at::Tensor rotated = pairs * rotation.unsqueeze(1);  // [L, 1, D/2] broadcast
  return at::view_as_real(rotated).flatten(-2).to(x.scalar_type());
}

}  // namespace sagegen::models
