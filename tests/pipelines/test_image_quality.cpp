// PSNR and SSIM against values worked out by hand, a direct loop-over-windows SSIM, and bad inputs.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sagegen/eval/image_quality.h"

namespace sagegen::eval {
namespace {

constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
constexpr double kC2 = (0.03 * 255) * (0.03 * 255);

at::Tensor constant_image(std::int64_t h, std::int64_t w, int value) {
  return at::full({h, w, 3}, value, at::TensorOptions().dtype(at::kByte));
}

at::Tensor random_image(std::int64_t h, std::int64_t w, int low, int high, std::uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(low, high, {h, w, 3}, gen, at::TensorOptions().dtype(at::kByte));
}

// SSIM of constant images: the variance and covariance terms are C2 / C2.
double constant_ssim(double a, double b) { return (2 * a * b + kC1) / (a * a + b * b + kC1); }

// Direct SSIM: every valid 11x11 window, weighted sums written out, per channel then averaged.
double ssim_by_loops(const at::Tensor& x_image, const at::Tensor& y_image) {
  const at::Tensor xs = x_image.to(at::kDouble);
  const at::Tensor ys = y_image.to(at::kDouble);
  const auto x = xs.accessor<double, 3>();
  const auto y = ys.accessor<double, 3>();
  double w[11][11];
  double total = 0;
  for (int i = 0; i < 11; ++i) {
    for (int j = 0; j < 11; ++j) {
      w[i][j] = std::exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
      total += w[i][j];
    }
  }
  const int h = static_cast<int>(xs.size(0));
  const int wd = static_cast<int>(xs.size(1));
  double sum = 0;
  int count = 0;
  for (int c = 0; c < 3; ++c) {
    for (int top = 0; top + 11 <= h; ++top) {
      for (int left = 0; left + 11 <= wd; ++left) {
        double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < 11; ++i) {
          for (int j = 0; j < 11; ++j) {
            const double k = w[i][j] / total;
            const double a = x[top + i][left + j][c];
            const double b = y[top + i][left + j][c];
            mx += k * a;
            my += k * b;
            sxx += k * a * a;
            syy += k * b * b;
            sxy += k * a * b;
          }
        }
        sxx -= mx * mx;
        syy -= my * my;
        sxy -= mx * my;
        sum += ((2 * mx * my + kC1) * (2 * sxy + kC2)) / ((mx * mx + my * my + kC1) * (sxx + syy + kC2));
        ++count;
      }
    }
  }
  return sum / count;
}

TEST(ImageQuality, IdenticalImagesHaveInfinitePsnrAndSsimOne) {
  const at::Tensor image = random_image(16, 20, 0, 256, 1);
  EXPECT_EQ(psnr(image, image.clone()), std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(ssim(image, image.clone()), 1.0);
  const ImageQuality q = compare_images(image, image);
  ASSERT_EQ(q.psnr_db_per_frame.size(), 1u);
  EXPECT_TRUE(std::isinf(q.psnr_db_per_frame[0]));
  EXPECT_DOUBLE_EQ(q.ssim_per_frame[0], 1.0);
}

TEST(ImageQuality, ConstantImagesMatchTheClosedForm) {
  // MSE = 10^2 = 100: PSNR = 10 log10(255^2 / 100).
  EXPECT_NEAR(psnr(constant_image(12, 12, 110), constant_image(12, 12, 100)),
              10 * std::log10(255.0 * 255.0 / 100.0), 1e-12);
  EXPECT_NEAR(ssim(constant_image(12, 12, 110), constant_image(12, 12, 100)), constant_ssim(110, 100), 1e-12);
  EXPECT_NEAR(ssim(constant_image(12, 12, 0), constant_image(12, 12, 255)), constant_ssim(0, 255), 1e-12);
  EXPECT_LT(constant_ssim(0, 255), 0.001);
}

TEST(ImageQuality, SsimAveragesTheThreeChannels) {
  at::Tensor a = constant_image(12, 12, 100);
  at::Tensor b = a.clone();
  b.select(2, 1).fill_(160);  // only green differs
  EXPECT_NEAR(ssim(b, a), (2.0 + constant_ssim(160, 100)) / 3.0, 1e-12);
  // MSE over all channels: 60^2 / 3.
  EXPECT_NEAR(psnr(b, a), 10 * std::log10(255.0 * 255.0 / (3600.0 / 3.0)), 1e-12);
}

TEST(ImageQuality, AKnownShiftGivesItsPsnrAndOnlyALuminanceLoss) {
  const at::Tensor a = random_image(24, 24, 40, 200, 2);
  const at::Tensor b = (a.to(at::kInt) + 8).to(at::kByte);
  EXPECT_NEAR(psnr(b, a), 20 * std::log10(255.0 / 8.0), 1e-12);
  // A shift leaves variance and covariance alone, so SSIM is the mean luminance term
  // 1 - d^2 / (mu^2 + (mu + d)^2 + C1) over windows, with local means mu in [40, 200).
  const double s = ssim(b, a);
  EXPECT_LT(s, 1.0);
  EXPECT_GT(s, 1.0 - 64.0 / (2 * 40.0 * 40.0 + 2 * 40.0 * 8 + 64 + kC1));
  EXPECT_LT(s, 1.0 - 64.0 / (2 * 200.0 * 200.0 + 2 * 200.0 * 8 + 64 + kC1));
  EXPECT_NEAR(s, ssim_by_loops(b, a), 1e-10);
}

TEST(ImageQuality, SignNoiseOfFixedSizeHasAnExactPsnr) {
  // Every pixel moved by exactly +-5 whatever the signs: MSE = 25.
  const at::Tensor a = random_image(16, 16, 10, 240, 3);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(4);
  const at::Tensor signs = at::randint(0, 2, {16, 16, 3}, gen, at::TensorOptions().dtype(at::kInt)) * 2 - 1;
  const at::Tensor b = (a.to(at::kInt) + 5 * signs).to(at::kByte);
  EXPECT_NEAR(psnr(b, a), 10 * std::log10(255.0 * 255.0 / 25.0), 1e-12);
  EXPECT_NEAR(psnr(a, b), psnr(b, a), 1e-12);
}

TEST(ImageQuality, SsimMatchesADirectLoopOverWindows) {
  const at::Tensor a = random_image(17, 23, 0, 256, 5);
  const at::Tensor b = random_image(17, 23, 0, 256, 6);
  const double s = ssim(b, a);
  EXPECT_NEAR(s, ssim_by_loops(b, a), 1e-10);
  EXPECT_LT(s, 0.2);  // unrelated noise has little structure in common
  EXPECT_NEAR(ssim(a, b), s, 1e-12);  // symmetric
  // Mild noise keeps most of the structure.
  const at::Tensor noisy = (a.to(at::kInt) + random_image(17, 23, 0, 5, 7).to(at::kInt)).clamp(0, 255).to(at::kByte);
  EXPECT_NEAR(ssim(noisy, a), ssim_by_loops(noisy, a), 1e-10);
  EXPECT_GT(ssim(noisy, a), 0.9);
}

TEST(ImageQuality, ClipsReportEachFrameAndPsnrFromTheMeanError) {
  const at::Tensor a = at::stack({constant_image(12, 14, 100), constant_image(12, 14, 50), constant_image(12, 14, 30)});
  at::Tensor b = a.clone();
  b[1].fill_(60);  // MSE 100 on frame 1
  b[2].fill_(50);  // MSE 400 on frame 2
  const ImageQuality q = compare_images(b, a);
  ASSERT_EQ(q.psnr_db_per_frame.size(), 3u);
  EXPECT_TRUE(std::isinf(q.psnr_db_per_frame[0]));
  EXPECT_NEAR(q.psnr_db_per_frame[1], 10 * std::log10(255.0 * 255.0 / 100.0), 1e-12);
  EXPECT_NEAR(q.psnr_db_per_frame[2], 10 * std::log10(255.0 * 255.0 / 400.0), 1e-12);
  EXPECT_NEAR(q.psnr_db, 10 * std::log10(255.0 * 255.0 / (500.0 / 3.0)), 1e-12);
  ASSERT_EQ(q.ssim_per_frame.size(), 3u);
  EXPECT_DOUBLE_EQ(q.ssim_per_frame[0], 1.0);
  EXPECT_NEAR(q.ssim_per_frame[1], constant_ssim(60, 50), 1e-12);
  EXPECT_NEAR(q.ssim_per_frame[2], constant_ssim(50, 30), 1e-12);
  EXPECT_NEAR(q.ssim, (1.0 + constant_ssim(60, 50) + constant_ssim(50, 30)) / 3.0, 1e-12);
  EXPECT_NEAR(psnr(b, a), q.psnr_db, 1e-12);
  EXPECT_NEAR(ssim(b, a), q.ssim, 1e-12);
}

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}

TEST(ImageQuality, BadShapesAndDtypesAreClearErrors) {
  const at::Tensor good = constant_image(12, 12, 1);
  EXPECT_NE(error_of([&] { compare_images(good, constant_image(12, 13, 1)); }).find("differs from reference shape"),
            std::string::npos);
  EXPECT_NE(error_of([&] { compare_images(good.to(at::kFloat), good); }).find("dtype"), std::string::npos);
  EXPECT_NE(error_of([&] { compare_images(at::zeros({12, 12}, at::kByte), good); }).find("[H, W, 3]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { compare_images(at::zeros({12, 12, 4}, at::kByte), good); }).find("shape"),
            std::string::npos);
  EXPECT_NE(error_of([&] { psnr(constant_image(8, 30, 1), constant_image(8, 30, 1)); }).find("SSIM window"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ssim(at::Tensor(), good); }).find("undefined"), std::string::npos);
  EXPECT_NE(error_of([&] { ssim(at::zeros({0, 12, 12, 3}, at::kByte), at::zeros({0, 12, 12, 3}, at::kByte)); })
                .find("empty"),
            std::string::npos);
}

}  // namespace
}  // namespace sagegen::eval
