// The grid PNG of `sagegen compare`. Images: one column per entry, the figures under each image.
// Videos: one row per entry, its figures on the left and its frames as a strip, each frame with
// its number and its PSNR against the reference frame underneath.
#pragma once

#include <ATen/core/Tensor.h>

#include "sagegen/compare/result.h"

namespace sagegen::cli {

using compare::AdherenceCount;
using compare::CompareEntry;
using compare::CompareRun;

// [H, W, 3] uint8. Small outputs are enlarged by an integer factor (nearest neighbour) so the
// text fits under them; long clips show evenly spaced frames so the figure stays under the
// canvas limit.
at::Tensor draw_compare_grid(const CompareRun& run);

}  // namespace sagegen::cli
