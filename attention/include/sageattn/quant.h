// Quantization primitives of the numerics contract (docs/numerics.md): FP8 E4M3 rounding with
// saturation, symmetric INT8/INT4 quantization over the token groups of tiles.h, and INT4
// packing. The golden model is built from these; GPU tests use them to check kernel operands.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "sageattn/tiles.h"
#include "sageattn/types.h"

namespace sageattn::quant {

// ---- FP8 E4M3 (1 sign, 4 exponent bits with bias 7, 3 mantissa bits; no infinities) ----
// Encoding rounds to nearest, ties to even; finite values beyond +-448 and +-inf saturate to
// +-448 (torch's float8_e4m3fn cast does not saturate); NaN encodes as 0x7F / 0xFF.
std::uint8_t e4m3_encode(float x);
float e4m3_decode(std::uint8_t code);

// Element-wise versions. encode: any floating tensor -> uint8 codes (same shape, CPU);
// decode: uint8 codes -> float32; round: float32 values -> the nearest E4M3 values as float32
// (decode(encode(x))), which is what the golden model feeds its FP8 matrix products.
at::Tensor e4m3_encode(const at::Tensor& x);
at::Tensor e4m3_decode(const at::Tensor& codes);
at::Tensor e4m3_round(const at::Tensor& x);

// ---- FP8 (e4m3 x e4m3 -> f32) wgmma accumulation, measured on the H200 ----
// (hopper-path.md section 3; tiles.h PvAccumulation::kWgmmaTruncating; docs/numerics.md.)
// One k32 step of one output element: C and the n products (each p_i * v_i, exact in FP32 for
// e4m3 operands) are aligned to E = the largest floor(log2|x|) among C and the nonzero
// products; each (C included) is truncated toward zero to a multiple of 2^(E-13); the sum of
// those (exact) is truncated toward zero to 14 significant bits (a multiple of
// 2^(floor(log2|sum|)-13)), and that is the new C. All zero -> 0. n may be below 32 (a partial
// step: the missing products are zeros, which change nothing). The result is exact in FP32.
float wgmma_fp8_k32_step(float c, const float* products, int n);

// Keys per wgmma FP8 k-step.
inline constexpr int kWgmmaFp8StepKeys = 32;

// One K block's FP8 PV product as wgmma computes it: p [..., R, K] times v [..., K, D] ->
// float32 [..., R, D] (leading dims broadcast), the K keys taken as consecutive k32 steps
// (keys 0-31, 32-63, ...) chained through one accumulator that starts at 0, each step
// wgmma_fp8_k32_step per output element. K need not be a multiple of 32: the last step is
// zero-padded, as the kernels pad keys to the block (padded P is 0). Operands are float32 CPU
// tensors holding E4M3 values (anything else: products need not be exact, and the result is
// then that of the products rounded to FP32). Parallel over rows (at::parallel_for).
at::Tensor fp8_wgmma_block_product(const at::Tensor& p, const at::Tensor& v);

// ---- Symmetric integer quantization ----
enum class IntFormat : std::uint8_t { kInt8, kInt4 };

// 127 or 7: symmetric ranges, so -128 / -8 are never produced.
int qmax(IntFormat format);

// The quantization group of every token of a Q or K sequence (groups never span two blocks,
// so a slice of whole blocks quantizes exactly as it does inside the full sequence).
//   Q, per-block : token t -> t / block_q
//   Q, per-warp  : t -> t / warp_q
//   Q, per-thread: t -> (t / warp_q) * 8 + t % 8   (row r of a warp is in thread group r % 8)
//   with lead_rows padding rows before Q's row 0 (KernelNumerics::q_lead_rows), t is the row
//   plus lead_rows (the groups of the padding are empty, their scales 0)
//   K, per-block and per-warp: t -> t / block_k
//   K, per-thread: t -> (t / block_k) * 8 + t % 8  (key j of a K block is in group j % 8)
struct TokenGroups {
  at::Tensor group_of_token;  // int64 [L]
  int64_t count = 0;          // number of groups (some may be partially filled at the tail)
};
TokenGroups q_token_groups(int64_t len_q, Granularity granularity, TileShape tiles = kMmaTiles,
                           int64_t lead_rows = 0);
TokenGroups k_token_groups(int64_t len_k, Granularity granularity, TileShape tiles = kMmaTiles);

struct IntQuantized {
  at::Tensor values;  // int8 [..., L, D], each in [-qmax, qmax]
  at::Tensor scales;  // float32 [..., groups]; x ~= values * scales[group_of_token]
};

// x: float32 [..., L, D]. Per group with absmax a (over its tokens and all D channels):
// inv = qmax / a (FP32; 0 when a == 0), value = clamp(rint_half_even(x * inv), -qmax, qmax),
// scale = a / qmax.
IntQuantized quantize_symmetric(const at::Tensor& x, const TokenGroups& groups, IntFormat format);

// values * scale of each token's group, float32 [..., L, D].
at::Tensor dequantize_symmetric(const IntQuantized& quantized, const TokenGroups& groups);

// The scale of each token: scales gathered through group_of_token, float32 [..., L].
at::Tensor scale_per_token(const at::Tensor& scales, const TokenGroups& groups);

// INT4 packing along the last dim: element 2i in the low nibble, 2i+1 in the high nibble, both
// two's complement. values: int8 [..., D] in [-8, 7] -> uint8 [..., ceil(D / 2)] (an odd D pads
// a zero high nibble). unpack needs D back to drop that padding.
at::Tensor pack_int4(const at::Tensor& values);
at::Tensor unpack_int4(const at::Tensor& packed, int64_t count);

}  // namespace sageattn::quant
