#include "sagegen/eval/image_quality.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace sagegen::eval {
namespace {

constexpr double kC1 = (kSsimK1 * kPixelMax) * (kSsimK1 * kPixelMax);
constexpr double kC2 = (kSsimK2 * kPixelMax) * (kSsimK2 * kPixelMax);

void check_one(const at::Tensor& t, const char* what) {
  if (!t.defined()) throw std::invalid_argument(fmt::format("{}: undefined tensor", what));
  if ((t.dim() != 3 && t.dim() != 4) || t.size(-1) != 3) {
    throw std::invalid_argument(fmt::format("{}: shape {}, expected [H, W, 3] or [F, H, W, 3]", what,
                                            c10::str(t.sizes())));
  }
  if (t.scalar_type() != at::kByte) {
    throw std::invalid_argument(
        fmt::format("{}: dtype {}, expected uint8 (Byte)", what, c10::toString(t.scalar_type())));
  }
  if (t.numel() == 0) throw std::invalid_argument(fmt::format("{}: shape {} is empty", what, c10::str(t.sizes())));
}

// Returns both as [F, H, W, 3].
std::pair<at::Tensor, at::Tensor> checked_frames(const at::Tensor& image, const at::Tensor& reference) {
  check_one(image, "image");
  check_one(reference, "reference");
  if (!image.sizes().equals(reference.sizes())) {
    throw std::invalid_argument(fmt::format("image shape {} differs from reference shape {}",
                                            c10::str(image.sizes()), c10::str(reference.sizes())));
  }
  if (image.device() != reference.device()) {
    throw std::invalid_argument(fmt::format("image on {} but reference on {}", image.device().str(),
                                            reference.device().str()));
  }
  const std::int64_t height = image.size(-3);
  const std::int64_t width = image.size(-2);
  if (height < kSsimWindow || width < kSsimWindow) {
    throw std::invalid_argument(fmt::format("images of {}x{} are smaller than the {}x{} SSIM window",
                                            width, height, kSsimWindow, kSsimWindow));
  }
  if (image.dim() == 3) return {image.unsqueeze(0), reference.unsqueeze(0)};
  return {image, reference};
}

double psnr_of_mse(double mse) {
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(kPixelMax * kPixelMax / mse);
}

// Mean squared error per frame, [F] double on the CPU.
std::vector<double> mse_per_frame(const at::Tensor& frames, const at::Tensor& reference) {
  const at::Tensor diff = frames.to(at::kDouble) - reference.to(at::kDouble);
  const at::Tensor mse = diff.square().mean({1, 2, 3}).cpu().contiguous();
  return {mse.const_data_ptr<double>(), mse.const_data_ptr<double>() + mse.numel()};
}

// The normalised 11x11 Gaussian as a conv2d weight [1, 1, 11, 11].
at::Tensor gaussian_window(const at::TensorOptions& options) {
  const at::Tensor offsets = at::arange(kSsimWindow, options) - (kSsimWindow - 1) / 2;
  at::Tensor g = at::exp(-offsets.square() / (2.0 * kSsimSigma * kSsimSigma));
  g = g / g.sum();
  return at::outer(g, g).reshape({1, 1, kSsimWindow, kSsimWindow});
}

// SSIM of one frame [H, W, 3]: per channel, mean over valid windows, then mean over channels.
double frame_ssim(const at::Tensor& frame, const at::Tensor& reference, const at::Tensor& window) {
  const at::Tensor x = frame.to(at::kDouble).permute({2, 0, 1}).unsqueeze(1);  // [3, 1, H, W]
  const at::Tensor y = reference.to(at::kDouble).permute({2, 0, 1}).unsqueeze(1);
  auto local_mean = [&](const at::Tensor& t) { return at::conv2d(t, window); };
  const at::Tensor mu_x = local_mean(x);
  const at::Tensor mu_y = local_mean(y);
  const at::Tensor var_x = local_mean(x * x) - mu_x.square();
  const at::Tensor var_y = local_mean(y * y) - mu_y.square();
  const at::Tensor cov_xy = local_mean(x * y) - mu_x * mu_y;
  const at::Tensor map = ((2.0 * mu_x * mu_y + kC1) * (2.0 * cov_xy + kC2)) /
                         ((mu_x.square() + mu_y.square() + kC1) * (var_x + var_y + kC2));
  return map.mean().item<double>();
}

double mean_of(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

}  // namespace

double psnr(const at::Tensor& image, const at::Tensor& reference) {
  const auto [frames, ref] = checked_frames(image, reference);
  return psnr_of_mse(mean_of(mse_per_frame(frames, ref)));
}

double ssim(const at::Tensor& image, const at::Tensor& reference) {
  return compare_images(image, reference).ssim;
}

ImageQuality compare_images(const at::Tensor& image, const at::Tensor& reference) {
  const auto [frames, ref] = checked_frames(image, reference);
  ImageQuality quality;
  const std::vector<double> mse = mse_per_frame(frames, ref);
  for (double m : mse) quality.psnr_db_per_frame.push_back(psnr_of_mse(m));
  quality.psnr_db = psnr_of_mse(mean_of(mse));
  // One frame at a time keeps the double-precision temporaries to a frame's size on long clips.
  const at::Tensor window = gaussian_window(at::TensorOptions().dtype(at::kDouble).device(frames.device()));
  for (std::int64_t f = 0; f < frames.size(0); ++f) {
    quality.ssim_per_frame.push_back(frame_ssim(frames[f], ref[f], window));
  }
  quality.ssim = mean_of(quality.ssim_per_frame);
  return quality;
}

}  // namespace sagegen::eval
