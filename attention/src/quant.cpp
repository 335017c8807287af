#include "sageattn/quant.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

namespace sageattn::quant {
namespace {

constexpr std::uint8_t kE4M3NaN = 0x7F;
constexpr std::uint8_t kE4M3MaxCode = 0x7E;  // 1.75 * 2^8 = 448
constexpr int kE4M3Bias = 7;
constexpr int kE4M3MantissaBits = 3;
constexpr int kFloatMantissaBits = 23;
constexpr float kE4M3MinNormal = 0.015625f;  // 2^-6
constexpr float kE4M3SubnormalStepInv = 512.0f;  // 1 / 2^-9, the subnormal spacing
static_assert(kE4M3Max == 448.0f, "E4M3 max is 1.75 * 2^8");

std::uint32_t float_bits(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

const std::array<float, 256>& e4m3_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = e4m3_decode(static_cast<std::uint8_t>(c));
    return t;
  }();
  return table;
}

at::Tensor contiguous_float(const at::Tensor& x) {
  return x.to(at::kCPU).to(at::kFloat).contiguous();
}

float bits_float(std::uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// wgmma accumulation: the alignment keeps kWgmmaAlignBits bits below the leading one of the
// largest term (multiples of 2^(E-13)); the result keeps 14 significant bits, i.e. drops the
// low 23 - 13 = 10 mantissa bits of an FP32 value.
constexpr int kWgmmaAlignBits = 13;
constexpr std::uint32_t kWgmmaResultMask = ~((1u << (kFloatMantissaBits - kWgmmaAlignBits)) - 1u);

// One row of fp8_wgmma_block_product: out[d] = the k32 chain over `keys` keys of p[k] * v[k, d].
// Vectorised over d, and exact: with Q = 2^(E-13) per element, every aligned term x / Q is an
// integer below 2^14 in magnitude, so the step sums them as int32 (33 terms < 2^20), and
// sum * Q is exact in FP32; the 14-bit truncation of that is a mask of its mantissa.
// E comes from the exponent field of max |x|: the operands are finite and their nonzero
// products normal (>= 2^-18 for E4M3), so the field is that of floor(log2 |x|); it is clamped
// at 14 (E >= -113) so Q and 1/Q stay normal, which only matters for all-zero steps.
// The d loops are plain and alias-free so the compiler vectorises them (-O3, the Release flags).
void wgmma_row(const float* __restrict p, const float* __restrict v, int64_t keys, int64_t dim,
               float* __restrict c, float* __restrict scratch, std::int32_t* __restrict sum) {
  float* __restrict mx = scratch;
  float* __restrict quantum = scratch + dim;
  float* __restrict inv_quantum = scratch + 2 * dim;
  for (int64_t d = 0; d < dim; ++d) c[d] = 0.0f;
  for (int64_t k0 = 0; k0 < keys; k0 += kWgmmaFp8StepKeys) {
    const int64_t k1 = std::min<int64_t>(keys, k0 + kWgmmaFp8StepKeys);
    for (int64_t d = 0; d < dim; ++d) mx[d] = std::fabs(c[d]);
    bool any = false;
    for (int64_t k = k0; k < k1; ++k) {
      const float pk = p[k];
      if (pk == 0.0f) continue;  // zero products neither set E nor add anything
      any = true;
      const float* __restrict vk = v + k * dim;
      for (int64_t d = 0; d < dim; ++d) mx[d] = std::max(mx[d], std::fabs(pk * vk[d]));
    }
    if (!any) {
      // C alone: aligned to its own exponent it keeps 14 bits, which it already has.
      continue;
    }
    for (int64_t d = 0; d < dim; ++d) {
      std::uint32_t bits;
      std::memcpy(&bits, &mx[d], sizeof bits);
      const std::uint32_t field = std::max<std::uint32_t>((bits >> kFloatMantissaBits) & 0xFFu,
                                                          kWgmmaAlignBits + 1);
      quantum[d] = bits_float((field - kWgmmaAlignBits) << kFloatMantissaBits);
      inv_quantum[d] = bits_float((2 * 127 + kWgmmaAlignBits - field) << kFloatMantissaBits);
      sum[d] = static_cast<std::int32_t>(c[d] * inv_quantum[d]);  // truncates toward zero
    }
    for (int64_t k = k0; k < k1; ++k) {
      const float pk = p[k];
      if (pk == 0.0f) continue;
      const float* __restrict vk = v + k * dim;
      for (int64_t d = 0; d < dim; ++d) {
        sum[d] += static_cast<std::int32_t>((pk * vk[d]) * inv_quantum[d]);
      }
    }
    for (int64_t d = 0; d < dim; ++d) {
      const float total = static_cast<float>(sum[d]) * quantum[d];
      std::uint32_t bits;
      std::memcpy(&bits, &total, sizeof bits);
      bits &= kWgmmaResultMask;
      std::memcpy(&c[d], &bits, sizeof bits);
    }
  }
}

}  // namespace

float wgmma_fp8_k32_step(float c, const float* products, int n) {
  TORCH_CHECK(n >= 0 && n <= kWgmmaFp8StepKeys, "sageattn::quant::wgmma_fp8_k32_step: n must be in [0, ",
              kWgmmaFp8StepKeys, "], got ", n);
  // In FP64, with frexp / ldexp / trunc: a plain statement of the rule, independent of the
  // bit tricks of wgmma_row.
  bool any = false;
  int e_max = 0;
  auto consider = [&](double x) {
    TORCH_CHECK(std::isfinite(x), "sageattn::quant::wgmma_fp8_k32_step: operands must be finite");
    if (x == 0.0) return;
    int e;
    std::frexp(x, &e);  // x = f * 2^e with |f| in [0.5, 1): floor(log2 |x|) = e - 1
    e_max = any ? std::max(e_max, e - 1) : e - 1;
    any = true;
  };
  consider(c);
  for (int i = 0; i < n; ++i) consider(products[i]);
  if (!any) return 0.0f;
  auto truncate = [](double x, double step) { return std::trunc(x / step) * step; };
  const double quantum = std::ldexp(1.0, e_max - kWgmmaAlignBits);
  double sum = truncate(c, quantum);  // every term is a multiple of quantum below 2^14 of them:
  for (int i = 0; i < n; ++i) sum += truncate(products[i], quantum);  // exact in FP64
  if (sum == 0.0) return 0.0f;
  int e;
  std::frexp(sum, &e);
  return static_cast<float>(truncate(sum, std::ldexp(1.0, e - 1 - kWgmmaAlignBits)));
}

at::Tensor fp8_wgmma_block_product(const at::Tensor& p, const at::Tensor& v) {
  TORCH_CHECK(p.dim() >= 2 && v.dim() >= 2,
              "sageattn::quant::fp8_wgmma_block_product: p must be [..., R, K] and v [..., K, D], "
              "got ", p.sizes(), " and ", v.sizes());
  TORCH_CHECK(p.size(-1) == v.size(-2), "sageattn::quant::fp8_wgmma_block_product: p has ",
              p.size(-1), " keys but v has ", v.size(-2));
  const int64_t rows = p.size(-2), keys = p.size(-1), dim = v.size(-1);
  std::vector<int64_t> lead =
      at::infer_size(p.sizes().slice(0, p.dim() - 2), v.sizes().slice(0, v.dim() - 2));
  auto shape = [&](int64_t a, int64_t b) {
    std::vector<int64_t> s = lead;
    s.push_back(a);
    s.push_back(b);
    return s;
  };
  const at::Tensor pc =
      contiguous_float(p).expand(shape(rows, keys)).reshape({-1, rows, keys}).contiguous();
  const at::Tensor vc =
      contiguous_float(v).expand(shape(keys, dim)).reshape({-1, keys, dim}).contiguous();
  at::Tensor out = at::empty(shape(rows, dim), pc.options());
  const float* pp = pc.const_data_ptr<float>();
  const float* vp = vc.const_data_ptr<float>();
  float* op = out.mutable_data_ptr<float>();
  at::parallel_for(0, pc.size(0) * rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(3 * dim);
    std::vector<std::int32_t> sum(dim);
    for (int64_t row = begin; row < end; ++row) {
      wgmma_row(pp + row * keys, vp + (row / rows) * keys * dim, keys, dim, op + row * dim,
                scratch.data(), sum.data());
    }
  });
  return out;
}

std::uint8_t e4m3_encode(float x) {
  const std::uint32_t bits = float_bits(x);
  const auto sign = static_cast<std::uint8_t>((bits >> 31) << 7);
  if (std::isnan(x)) return sign | kE4M3NaN;
  const float a = std::fabs(x);
  if (a >= kE4M3Max) return sign | kE4M3MaxCode;
  if (a < kE4M3MinNormal) {
    // Subnormal: multiples of 2^-9; the scaling is exact, nearbyint rounds half to even.
    return sign | static_cast<std::uint8_t>(std::nearbyint(a * kE4M3SubnormalStepInv));
  }
  const std::uint32_t abs_bits = bits & 0x7FFFFFFFu;
  int exponent = static_cast<int>(abs_bits >> kFloatMantissaBits) - 127;
  constexpr int kDropped = kFloatMantissaBits - kE4M3MantissaBits;
  const std::uint32_t mantissa = abs_bits & ((1u << kFloatMantissaBits) - 1);
  std::uint32_t kept = mantissa >> kDropped;
  const std::uint32_t rest = mantissa & ((1u << kDropped) - 1);
  const std::uint32_t half = 1u << (kDropped - 1);
  if (rest > half || (rest == half && (kept & 1u))) ++kept;
  if (kept == (1u << kE4M3MantissaBits)) {  // mantissa overflow carries into the exponent
    kept = 0;
    ++exponent;
  }
  const auto code = static_cast<std::uint32_t>((exponent + kE4M3Bias) << kE4M3MantissaBits) | kept;
  return sign | static_cast<std::uint8_t>(std::min<std::uint32_t>(code, kE4M3MaxCode));
}

float e4m3_decode(std::uint8_t code) {
  const bool negative = (code & 0x80) != 0;
  const int exponent_field = (code >> kE4M3MantissaBits) & 0xF;
  const int mantissa = code & 0x7;
  float magnitude;
  if ((code & 0x7F) == kE4M3NaN) {
    magnitude = std::nanf("");
  } else if (exponent_field == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), 1 - kE4M3Bias - kE4M3MantissaBits);
  } else {
    magnitude = std::ldexp(1.0f + mantissa / 8.0f, exponent_field - kE4M3Bias);
  }
  return negative ? -magnitude : magnitude;
}

at::Tensor e4m3_encode(const at::Tensor& x) {
  TORCH_CHECK(x.is_floating_point(), "sageattn::quant::e4m3_encode: x must be floating, got ",
              x.scalar_type());
  const at::Tensor src = contiguous_float(x);
  at::Tensor codes = at::empty(src.sizes(), src.options().dtype(at::kByte));
  const float* in = src.const_data_ptr<float>();
  std::uint8_t* out = codes.mutable_data_ptr<std::uint8_t>();
  at::parallel_for(0, src.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = e4m3_encode(in[i]);
  });
  return codes;
}

at::Tensor e4m3_decode(const at::Tensor& codes) {
  TORCH_CHECK(codes.scalar_type() == at::kByte,
              "sageattn::quant::e4m3_decode: codes must be uint8, got ", codes.scalar_type());
  const at::Tensor src = codes.to(at::kCPU).contiguous();
  at::Tensor values = at::empty(src.sizes(), src.options().dtype(at::kFloat));
  const std::uint8_t* in = src.const_data_ptr<std::uint8_t>();
  float* out = values.mutable_data_ptr<float>();
  const auto& table = e4m3_table();
  at::parallel_for(0, src.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = table[in[i]];
  });
  return values;
}

at::Tensor e4m3_round(const at::Tensor& x) {
  TORCH_CHECK(x.is_floating_point(), "sageattn::quant::e4m3_round: x must be floating, got ",
              x.scalar_type());
  const at::Tensor src = contiguous_float(x);
  at::Tensor rounded = at::empty_like(src);
  const float* in = src.const_data_ptr<float>();
  float* out = rounded.mutable_data_ptr<float>();
  const auto& table = e4m3_table();
  at::parallel_for(0, src.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = table[e4m3_encode(in[i])];
  });
  return rounded;
}

int qmax(IntFormat format) { return format == IntFormat::kInt4 ? kInt4Max : kInt8Max; }

TokenGroups q_token_groups(int64_t len_q, Granularity granularity, TileShape tiles,
                           int64_t lead_rows) {
  TORCH_CHECK(len_q > 0, "sageattn::quant::q_token_groups: len_q must be > 0, got ", len_q);
  TORCH_CHECK(lead_rows >= 0 && lead_rows < tiles.block_q,
              "sageattn::quant::q_token_groups: lead_rows must be in [0, block_q ", tiles.block_q,
              "), got ", lead_rows);
  const at::Tensor t = at::arange(lead_rows, lead_rows + len_q, at::kLong);
  TokenGroups groups;
  switch (granularity) {
    case Granularity::kPerBlock:
      groups.group_of_token = at::floor_divide(t, tiles.block_q);
      break;
    case Granularity::kPerWarp:
      groups.group_of_token = at::floor_divide(t, tiles.warp_q);
      break;
    case Granularity::kPerThread:
      TORCH_CHECK(tiles.warp_q % kThreadGroups == 0, "sageattn::quant::q_token_groups: warp_q ",
                  tiles.warp_q, " is not a multiple of ", kThreadGroups);
      groups.group_of_token =
          at::floor_divide(t, tiles.warp_q) * kThreadGroups + at::remainder(t, kThreadGroups);
      break;
  }
  groups.count = groups.group_of_token.max().item<int64_t>() + 1;
  return groups;
}

TokenGroups k_token_groups(int64_t len_k, Granularity granularity, TileShape tiles) {
  TORCH_CHECK(len_k > 0, "sageattn::quant::k_token_groups: len_k must be > 0, got ", len_k);
  const at::Tensor t = at::arange(len_k, at::kLong);
  TokenGroups groups;
  if (granularity == Granularity::kPerThread) {
    TORCH_CHECK(tiles.block_k % kThreadGroups == 0, "sageattn::quant::k_token_groups: block_k ",
                tiles.block_k, " is not a multiple of ", kThreadGroups);
    groups.group_of_token =
        at::floor_divide(t, tiles.block_k) * kThreadGroups + at::remainder(t, kThreadGroups);
  } else {
    groups.group_of_token = at::floor_divide(t, tiles.block_k);
  }
  groups.count = groups.group_of_token.max().item<int64_t>() + 1;
  return groups;
}

IntQuantized quantize_symmetric(const at::Tensor& x, const TokenGroups& groups,
                                IntFormat format) {
  TORCH_CHECK(x.dim() >= 2, "sageattn::quant::quantize_symmetric: x must be [..., L, D], got ",
              x.sizes());
  TORCH_CHECK(x.scalar_type() == at::kFloat,
              "sageattn::quant::quantize_symmetric: x must be float32, got ", x.scalar_type());
  const int64_t len = x.size(-2);
  TORCH_CHECK(groups.group_of_token.numel() == len,
              "sageattn::quant::quantize_symmetric: groups cover ",
              groups.group_of_token.numel(), " tokens but x has ", len);
  const float q_max = static_cast<float>(qmax(format));

  // [..., L, D] -> [N, L, D] so the group reduction is one scatter over dim 1.
  const at::Tensor flat = x.reshape({-1, len, x.size(-1)});
  const at::Tensor token_absmax = flat.abs().amax(-1);  // [N, L]
  const at::Tensor index = groups.group_of_token.unsqueeze(0).expand_as(token_absmax);
  const at::Tensor absmax = at::zeros({flat.size(0), groups.count}, flat.options())
                                .scatter_reduce(1, index, token_absmax, "amax", true);  // [N, G]

  const at::Tensor inv = at::where(absmax > 0, q_max / absmax, at::zeros_like(absmax));
  const at::Tensor inv_per_token = inv.gather(1, index).unsqueeze(-1);  // [N, L, 1]
  const at::Tensor values = at::round(flat * inv_per_token).clamp(-q_max, q_max);

  std::vector<int64_t> scale_shape(x.sizes().begin(), x.sizes().end() - 2);
  scale_shape.push_back(groups.count);
  IntQuantized out;
  out.values = values.to(at::kChar).reshape(x.sizes());
  out.scales = (absmax / q_max).reshape(scale_shape);
  return out;
}

at::Tensor scale_per_token(const at::Tensor& scales, const TokenGroups& groups) {
  return scales.index_select(-1, groups.group_of_token);
}

at::Tensor dequantize_symmetric(const IntQuantized& quantized, const TokenGroups& groups) {
  return quantized.values.to(at::kFloat) *
         scale_per_token(quantized.scales, groups).unsqueeze(-1);
}

at::Tensor pack_int4(const at::Tensor& values) {
  TORCH_CHECK(values.scalar_type() == at::kChar,
              "sageattn::quant::pack_int4: values must be int8, got ", values.scalar_type());
  TORCH_CHECK(values.dim() >= 1, "sageattn::quant::pack_int4: values must have a last dim");
  TORCH_CHECK(values.numel() == 0 || (values.min().item<int>() >= -8 && values.max().item<int>() <= 7),
              "sageattn::quant::pack_int4: values must lie in [-8, 7], got range [",
              values.min().item<int>(), ", ", values.max().item<int>(), "]");
  at::Tensor v = values.to(at::kCPU).to(at::kInt);
  if (v.size(-1) % 2 != 0) v = at::constant_pad_nd(v, {0, 1}, 0);
  const at::Tensor low = at::bitwise_and(v.slice(-1, 0, v.size(-1), 2), 0xF);
  const at::Tensor high = at::bitwise_and(v.slice(-1, 1, v.size(-1), 2), 0xF);
  return at::bitwise_or(low, at::bitwise_left_shift(high, 4)).to(at::kByte);
}

at::Tensor unpack_int4(const at::Tensor& packed, int64_t count) {
  TORCH_CHECK(packed.scalar_type() == at::kByte,
              "sageattn::quant::unpack_int4: packed must be uint8, got ", packed.scalar_type());
  TORCH_CHECK(count >= 0 && (count + 1) / 2 == packed.size(-1), "sageattn::quant::unpack_int4: ",
              packed.size(-1), " bytes cannot hold count ", count);
  const at::Tensor bytes = packed.to(at::kCPU).to(at::kInt);
  // Sign-extend a nibble: (n ^ 8) - 8 maps 0..7 -> 0..7 and 8..15 -> -8..-1.
  const at::Tensor low = at::bitwise_xor(at::bitwise_and(bytes, 0xF), 8) - 8;
  const at::Tensor high =
      at::bitwise_xor(at::bitwise_and(at::bitwise_right_shift(bytes, 4), 0xF), 8) - 8;
  std::vector<int64_t> shape(packed.sizes().begin(), packed.sizes().end());
  shape.back() = 2 * packed.size(-1);
  const at::Tensor interleaved = at::stack({low, high}, -1).reshape(shape);
  return interleaved.narrow(-1, 0, count).to(at::kChar).contiguous();
}

}  // namespace sageattn::quant
