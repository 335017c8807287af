// 3-axis rotary position embedding over (frame, row, column), as Wan2.1's WanRotaryPosEmbed:
// head_dim is split into t = head_dim - 2*h, h = w = 2*(head_dim/6) channels, each axis with
// frequencies theta^(-2j/axis_dim), applied to interleaved channel pairs (2j, 2j+1).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "sagegen/model_config.h"

namespace sagegen::models {

struct RopeTables {
  at::Tensor cos;  // [L, head_dim / 2] float32
  at::Tensor sin;
  // [L, head_dim / 2] complex64, cos + i sin: what apply_rope multiplies by (make_rope_tables
  // sets it; apply_rope makes it from cos and sin when it is undefined).
  at::Tensor rotation;
};

struct RopeAxisDims {
  int t, h, w;
};
RopeAxisDims rope_axis_dims(int head_dim);

// Tables for a grid of frames x rows x columns tokens (in that order, column fastest), preceded
// by `leading_tokens` tokens with no position (identity rotation: joint attention's text).
RopeTables make_rope_tables(const Extent3& grid, int head_dim, double theta, int leading_tokens,
                            c10::Device device);

// x: [B, L, H, D] (NHD). Rotation in float32 (each pair (x0, x1) as the complex number
// x0 + i x1 times cos + i sin: one element-wise kernel each way); returns x's dtype.
at::Tensor apply_rope(const at::Tensor& x, const RopeTables& tables);

}  // namespace sagegen::models
