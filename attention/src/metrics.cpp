#include "sageattn/metrics.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <limits>

namespace sageattn {
namespace {

// 0/0 -> 0 (identical zero tensors), x/0 -> +inf.
double ratio(double num, double den) {
  if (den != 0.0) return num / den;
  return num == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
}

}  // namespace

std::string ErrorMetrics::str() const {
  char text[192];
  std::snprintf(text, sizeof text,
                "cos %.6f relL1 %.4g rmse %.3e max %.3e nmse %.3e cos*(1-L1) %.5f%s", cos_sim,
                rel_l1, rmse, max_abs, nmse, cos_l1, nonfinite > 0 ? " NONFINITE" : "");
  std::string s(text);
  if (nonfinite > 0) s += "=" + std::to_string(nonfinite);
  return s;
}

ErrorMetrics compare(const at::Tensor& actual, const at::Tensor& reference) {
  TORCH_CHECK(actual.defined() && reference.defined(),
              "sageattn::compare: actual and reference must be defined tensors");
  TORCH_CHECK(actual.sizes() == reference.sizes(), "sageattn::compare: actual has shape ",
              actual.sizes(), " but reference has ", reference.sizes());
  TORCH_CHECK(actual.numel() > 0, "sageattn::compare: tensors are empty");
  const at::Tensor a = actual.to(at::kCPU, at::kDouble).flatten();
  const at::Tensor r = reference.to(at::kCPU, at::kDouble).flatten();
  const at::Tensor diff = a - r;

  ErrorMetrics m;
  m.nonfinite = (~at::isfinite(a)).sum().item<int64_t>();
  if (m.nonfinite > 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    m.cos_sim = m.rel_l1 = m.rmse = m.max_abs = m.nmse = m.cos_l1 = nan;
    return m;
  }
  const double dot = (a * r).sum().item<double>();
  const double a2 = (a * a).sum().item<double>();
  const double r2 = (r * r).sum().item<double>();
  const double d2 = (diff * diff).sum().item<double>();
  const double abs_diff = diff.abs().sum().item<double>();
  const double abs_ref = r.abs().sum().item<double>();
  const double norms = std::sqrt(a2 * r2);
  m.cos_sim = norms > 0.0 ? dot / norms : (a2 == r2 ? 1.0 : 0.0);
  m.rel_l1 = ratio(abs_diff, abs_ref);
  m.rmse = std::sqrt(d2 / static_cast<double>(a.numel()));
  m.max_abs = diff.abs().max().item<double>();
  m.nmse = ratio(d2, r2);
  m.cos_l1 = m.cos_sim * (1.0 - m.rel_l1);
  return m;
}

}  // namespace sageattn
