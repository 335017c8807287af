// Token values whose FP32 sum depends on the order of the additions while their FP64 sum does
// not: the inputs on which a K/V token mean summed in FP32 by two implementations (the golden
// model, the CUDA statistics kernel) differs in the last bit, and an exactly rounded one cannot.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace sageattn::test {

// `shape` [B, H, L, D] in `dtype` (CPU): about half the values large (integers near 256, so a
// running FP32 sum over a few thousand tokens reaches ~5e5, where its ULP is 2^-5) and half small
// (k / 4096 with |k| <= 200: 8 significant bits, exact in fp16 and bf16; lost or rounded in that
// sum). Cast, every value is still a multiple of 2^-12 below 2^10, so any partial sum over
// fewer than 2^30 tokens is a multiple of 2^-12 below 2^40: exact in FP64 (53 bits), whatever
// the order.
inline at::Tensor order_sensitive_tokens(at::IntArrayRef shape, at::ScalarType dtype,
                                         uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::Tensor large = at::round(256.0 * (1.0 + 0.2 * at::randn(shape, gen)));
  const at::Tensor small = at::clamp(at::round(at::randn(shape, gen) * 40.0), -200, 200) / 4096.0;
  const at::Tensor is_large = at::rand(shape, gen) < 0.5;
  return at::where(is_large, large, small).to(dtype);
}

}  // namespace sageattn::test
