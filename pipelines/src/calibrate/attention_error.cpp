#include "sagegen/calibrate/attention_error.h"

#include <ATen/ATen.h>

#include <limits>

namespace sagegen::calibrate {

at::Tensor attention_error(const at::Tensor& actual, const at::Tensor& reference) {
  TORCH_CHECK(actual.defined() && reference.defined(),
              "attention_error: actual and reference must be defined tensors");
  TORCH_CHECK(actual.sizes() == reference.sizes(), "attention_error: actual has shape ",
              actual.sizes(), " but reference has ", reference.sizes());
  TORCH_CHECK(actual.device() == reference.device(), "attention_error: actual is on ",
              actual.device(), ", reference on ", reference.device());
  TORCH_CHECK(actual.numel() > 0, "attention_error: tensors are empty");
  // float32 elementwise keeps the temporaries at 4 bytes per element on the GPU; the sums that
  // decide the metric run in float64.
  const at::Tensor a = actual.to(at::kFloat).flatten();
  const at::Tensor r = reference.to(at::kFloat).flatten();
  const at::Tensor dot = (a * r).sum(at::kDouble);
  const at::Tensor a2 = (a * a).sum(at::kDouble);
  const at::Tensor r2 = (r * r).sum(at::kDouble);
  const at::Tensor abs_diff = (a - r).abs().sum(at::kDouble);
  const at::Tensor abs_ref = r.abs().sum(at::kDouble);

  const at::Tensor one = at::ones({}, dot.options());
  const at::Tensor zero = at::zeros({}, dot.options());
  const at::Tensor inf = at::full({}, std::numeric_limits<double>::infinity(), dot.options());
  const at::Tensor norms = at::sqrt(a2 * r2);
  const at::Tensor cos =
      at::where(norms > 0, dot / norms, at::where(a2 == r2, one, zero));
  const at::Tensor rel_l1 =
      at::where(abs_ref != 0, abs_diff / abs_ref, at::where(abs_diff == 0, zero, inf));
  at::Tensor errors = at::stack({cos, rel_l1, cos * (1.0 - rel_l1)});
  // A NaN or Inf anywhere in actual poisons every figure, as in sageattn::compare.
  const at::Tensor finite = at::isfinite(a).all();
  const at::Tensor nan = at::full({}, std::numeric_limits<double>::quiet_NaN(), dot.options());
  return at::where(finite, errors, nan);
}

}  // namespace sagegen::calibrate
