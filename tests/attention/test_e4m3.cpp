// FP8 E4M3 encoder/decoder: the rounding every sage2 P and V operand goes through.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sageattn/quant.h"

namespace sageattn::quant {
namespace {

bool is_nan_code(int c) { return (c & 0x7F) == 0x7F; }

TEST(E4M3, AllCodesRoundTrip) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    const float value = e4m3_decode(code);
    if (is_nan_code(c)) {
      EXPECT_TRUE(std::isnan(value)) << "code " << c;
      EXPECT_TRUE(is_nan_code(e4m3_encode(value))) << "code " << c;
      continue;
    }
    EXPECT_EQ(e4m3_encode(value), code) << "code " << c << " value " << value;
  }
}

TEST(E4M3, DecodeKnownValues) {
  EXPECT_EQ(e4m3_decode(0x00), 0.0f);
  EXPECT_EQ(e4m3_decode(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(e4m3_decode(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(e4m3_decode(0x38), 1.0f);
  EXPECT_EQ(e4m3_decode(0x7E), 448.0f);
  EXPECT_EQ(e4m3_decode(0xFE), -448.0f);
  EXPECT_TRUE(std::signbit(e4m3_decode(0x80)));
}

TEST(E4M3, AgreesWithTorchOnEveryCode) {
  const at::Tensor codes = at::arange(256, at::kInt).to(at::kByte);
  const at::Tensor torch_values = codes.view(at::kFloat8_e4m3fn).to(at::kFloat);
  const at::Tensor ours = e4m3_decode(codes);
  for (int c = 0; c < 256; ++c) {
    const float t = torch_values[c].item<float>();
    const float o = ours[c].item<float>();
    if (std::isnan(t)) {
      EXPECT_TRUE(std::isnan(o)) << "code " << c;
    } else {
      EXPECT_EQ(t, o) << "code " << c;
    }
  }
}

TEST(E4M3, AgreesWithTorchCastInRange) {
  at::Generator gen = at::detail::createCPUGenerator(7);
  // Log-uniform magnitudes over the whole range, both signs, subnormals included.
  const at::Tensor magnitude = at::exp2(at::rand({200000}, gen) * 19.0 - 10.0).clamp_max(448.0f);
  const at::Tensor x = magnitude * at::sign(at::rand({200000}, gen) - 0.5);
  const at::Tensor torch_rounded = x.to(at::kFloat8_e4m3fn).to(at::kFloat);
  EXPECT_TRUE(at::equal(e4m3_round(x), torch_rounded));
}

TEST(E4M3, TiesRoundToEven) {
  EXPECT_EQ(e4m3_decode(e4m3_encode(1.0625f)), 1.0f);    // between 1.0 (even) and 1.125
  EXPECT_EQ(e4m3_decode(e4m3_encode(1.1875f)), 1.25f);   // between 1.125 and 1.25 (even)
  EXPECT_EQ(e4m3_decode(e4m3_encode(1.9375f)), 2.0f);    // carries into the exponent
  EXPECT_EQ(e4m3_decode(e4m3_encode(432.0f)), 448.0f);   // between 416 and 448 (even)
  EXPECT_EQ(e4m3_decode(e4m3_encode(-1.0625f)), -1.0f);
  EXPECT_EQ(e4m3_decode(e4m3_encode(std::ldexp(1.0f, -10))), 0.0f);  // half the min subnormal
  EXPECT_EQ(e4m3_decode(e4m3_encode(std::ldexp(3.0f, -10))), std::ldexp(1.0f, -8));
  // Just off a tie goes to the nearer neighbour.
  EXPECT_EQ(e4m3_decode(e4m3_encode(std::nextafter(1.0625f, 2.0f))), 1.125f);
}

TEST(E4M3, SaturatesAt448) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (float x : {448.0f, 449.0f, 464.0f, 480.0f, 1.0e6f, kInf}) {
    EXPECT_EQ(e4m3_decode(e4m3_encode(x)), 448.0f) << x;
    EXPECT_EQ(e4m3_decode(e4m3_encode(-x)), -448.0f) << -x;
  }
  const at::Tensor big = at::tensor({500.0f, -1.0e9f, kInf});
  EXPECT_TRUE(at::equal(e4m3_round(big), at::tensor({448.0f, -448.0f, 448.0f})));
}

TEST(E4M3, NaNIsKept) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(e4m3_encode(nan), 0x7F);
  const at::Tensor rounded = e4m3_round(at::tensor({nan, 1.0f}));
  EXPECT_TRUE(std::isnan(rounded[0].item<float>()));
  EXPECT_EQ(rounded[1].item<float>(), 1.0f);
}

TEST(E4M3, TensorFunctionsMatchScalar) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor x = at::randn({4096}, gen) * 100.0;
  const at::Tensor codes = e4m3_encode(x);
  for (int64_t i = 0; i < x.numel(); i += 97) {
    EXPECT_EQ(codes[i].item<std::uint8_t>(), e4m3_encode(x[i].item<float>()));
  }
  EXPECT_TRUE(at::equal(e4m3_decode(codes), e4m3_round(x)));
}

}  // namespace
}  // namespace sageattn::quant
