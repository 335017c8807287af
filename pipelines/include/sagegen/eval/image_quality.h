// Full-reference image quality of uint8 RGB images and clips against a reference: PSNR and SSIM.
// Used by `sagegen compare` and the quality tests (a quantized attention variant against full
// precision from the same seed).
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace sagegen::eval {

// SSIM constants of Wang et al. 2004 ("Image quality assessment: from error visibility to
// structural similarity"): an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255.
inline constexpr int kSsimWindow = 11;
inline constexpr double kSsimSigma = 1.5;
inline constexpr double kSsimK1 = 0.01;
inline constexpr double kSsimK2 = 0.03;
inline constexpr double kPixelMax = 255.0;

struct ImageQuality {
  // 10 log10(255^2 / MSE) with the MSE averaged over every pixel and channel of every frame:
  // +inf exactly when the clip equals the reference. (Not a mean of per-frame dB, which would be
  // +inf as soon as one frame matched.)
  double psnr_db = 0.0;
  // Mean of the per-frame SSIM; 1 when the clip equals the reference.
  double ssim = 0.0;
  std::vector<double> psnr_db_per_frame;  // +inf for a frame equal to its reference frame
  std::vector<double> ssim_per_frame;
};

// PSNR in dB of one image ([H, W, 3]) or a clip ([F, H, W, 3]); +inf when equal.
double psnr(const at::Tensor& image, const at::Tensor& reference);

// SSIM of one image ([H, W, 3]) or the mean over a clip's frames. Computed per RGB channel on the
// 'valid' windows (every 11x11 window fully inside the image, as Wang et al.'s reference code
// does) and averaged over the three channels, so colour errors count. In [-1, 1]; 1 when equal.
double ssim(const at::Tensor& image, const at::Tensor& reference);

// Both metrics with their per-frame values. `image` and `reference`: the same shape, [H, W, 3]
// (one frame) or [F, H, W, 3], uint8, on any one device, each side at least 11 pixels (the SSIM
// window). Throws std::invalid_argument naming the shape, dtype or device otherwise.
ImageQuality compare_images(const at::Tensor& image, const at::Tensor& reference);

}  // namespace sagegen::eval
