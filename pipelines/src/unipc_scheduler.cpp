#include "sagegen/unipc_scheduler.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace sagegen {
namespace {

// Solves the small dense system a x = b (order <= a few) by Gaussian elimination with partial
// pivoting, as torch.linalg.solve does for UniPC's rho coefficients.
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const std::size_t n = b.size();
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t row = col + 1; row < n; ++row) {
      if (std::abs(a[row][col]) > std::abs(a[pivot][col])) pivot = row;
    }
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    TORCH_CHECK(a[col][col] != 0.0, "UniPC: singular system for the solver coefficients");
    for (std::size_t row = col + 1; row < n; ++row) {
      const double f = a[row][col] / a[col][col];
      for (std::size_t k = col; k < n; ++k) a[row][k] -= f * a[col][k];
      b[row] -= f * b[col];
    }
  }
  std::vector<double> x(n);
  for (std::size_t i = n; i-- > 0;) {
    double sum = b[i];
    for (std::size_t k = i + 1; k < n; ++k) sum -= a[i][k] * x[k];
    x[i] = sum / a[i][i];
  }
  return x;
}

// The B(h) terms shared by predictor and corrector: hh = -h (predict_x0), h phi_1 = e^hh - 1,
// B(h), and b_k = h phi_{k+1}(hh) k! / B(h) for k = 1..order.
struct Phi {
  double h_phi_1 = 0;
  double b_h = 0;
  std::vector<double> b;
};

Phi phi_terms(double h, int order, UniPCSolverType type) {
  const double hh = -h;
  Phi phi;
  phi.h_phi_1 = std::expm1(hh);
  phi.b_h = type == UniPCSolverType::kBh1 ? hh : std::expm1(hh);
  double h_phi_k = phi.h_phi_1 / hh - 1.0;
  double factorial = 1.0;
  for (int i = 1; i <= order; ++i) {
    phi.b.push_back(h_phi_k * factorial / phi.b_h);
    factorial *= i + 1;
    h_phi_k = h_phi_k / hh - 1.0 / factorial;
  }
  return phi;
}

}  // namespace

UniPCMultistepScheduler::UniPCMultistepScheduler(const UniPCConfig& config, int steps)
    : config_(config) {
  TORCH_CHECK(steps >= 1, "UniPCMultistepScheduler: steps must be >= 1, got ", steps);
  TORCH_CHECK(config.solver_order >= 1, "UniPCMultistepScheduler: solver_order must be >= 1");
  TORCH_CHECK(config.flow_shift > 0, "UniPCMultistepScheduler: flow_shift must be > 0");
  TORCH_CHECK(config.num_train_timesteps >= 1,
              "UniPCMultistepScheduler: num_train_timesteps must be >= 1");
  const double n_train = config.num_train_timesteps;
  // np.linspace(1, 1/N, steps + 1)[:-1]: start + i * step, in float64.
  const double step = (1.0 / n_train - 1.0) / steps;
  std::vector<double> sigmas;
  for (int i = 0; i < steps; ++i) {
    const double s = static_cast<double>(i) * step + 1.0;
    sigmas.push_back(config.flow_shift * s / (1.0 + (config.flow_shift - 1.0) * s));
  }
  constexpr double kEps = 1e-6;  // keeps log(1 - sigma_0) finite, as diffusers
  if (std::abs(sigmas[0] - 1.0) < kEps) sigmas[0] -= kEps;
  for (const double s : sigmas) timesteps_.push_back(static_cast<std::int64_t>(s * n_train));
  sigmas.push_back(config.final_sigma == FinalSigma::kZero ? 0.0 : sigmas.back());
  for (const double s : sigmas) sigmas_.push_back(static_cast<float>(s));
}

double UniPCMultistepScheduler::timestep() const {
  TORCH_CHECK(step_index_ < steps(), "UniPCMultistepScheduler: all ", steps(),
              " steps were taken");
  return static_cast<double>(timesteps_[step_index_]);
}

void UniPCMultistepScheduler::reset() {
  step_index_ = 0;
  x0_history_.clear();
  last_sample_ = at::Tensor();
  lower_order_count_ = 0;
  this_order_ = 0;
}

double UniPCMultistepScheduler::lambda(int i) const {
  const double sigma = sigmas_[i];
  return std::log(1.0 - sigma) - std::log(sigma);
}

at::Tensor UniPCMultistepScheduler::predict(const at::Tensor& x, int order) const {
  const int i = step_index_;
  const double sigma_t = sigmas_[i + 1];
  const double sigma_s0 = sigmas_[i];
  const double alpha_t = 1.0 - sigma_t;
  const double lambda_s0 = lambda(i);
  const double h = lambda(i + 1) - lambda_s0;  // +inf at a final sigma of 0
  const at::Tensor& m0 = x0_history_.back();

  std::vector<double> rks;
  std::vector<at::Tensor> d1s;
  for (int k = 1; k < order; ++k) {
    const double rk = (lambda(i - k) - lambda_s0) / h;
    rks.push_back(rk);
    d1s.push_back((x0_history_[x0_history_.size() - 1 - k] - m0) / rk);
  }
  rks.push_back(1.0);
  const Phi phi = phi_terms(h, order, config_.solver_type);

  at::Tensor x_t = x * (sigma_t / sigma_s0) - m0 * (alpha_t * phi.h_phi_1);
  if (!d1s.empty()) {
    std::vector<double> rhos;
    if (order == 2) {
      rhos = {0.5};  // diffusers' simplified order-2 predictor
    } else {
      const int n = order - 1;  // R[:-1, :-1] rho = b[:-1], R[k][j] = rks[j]^k
      std::vector<std::vector<double>> r(n, std::vector<double>(n));
      for (int row = 0; row < n; ++row) {
        for (int col = 0; col < n; ++col) r[row][col] = std::pow(rks[col], row);
      }
      rhos = solve(r, std::vector<double>(phi.b.begin(), phi.b.begin() + n));
    }
    at::Tensor residual = d1s[0] * static_cast<float>(rhos[0]);
    for (std::size_t k = 1; k < d1s.size(); ++k) residual += d1s[k] * static_cast<float>(rhos[k]);
    x_t = x_t - residual * (alpha_t * phi.b_h);
  }
  return x_t;
}

at::Tensor UniPCMultistepScheduler::correct(const at::Tensor& x0_now,
                                            const at::Tensor& last_sample, int order) const {
  const int i = step_index_;
  const double sigma_t = sigmas_[i];
  const double sigma_s0 = sigmas_[i - 1];
  const double alpha_t = 1.0 - sigma_t;
  const double lambda_s0 = lambda(i - 1);
  const double h = lambda(i) - lambda_s0;
  const at::Tensor& m0 = x0_history_.back();

  std::vector<double> rks;
  std::vector<at::Tensor> d1s;
  for (int k = 1; k < order; ++k) {
    const double rk = (lambda(i - (k + 1)) - lambda_s0) / h;
    rks.push_back(rk);
    d1s.push_back((x0_history_[x0_history_.size() - 1 - k] - m0) / rk);
  }
  rks.push_back(1.0);
  const Phi phi = phi_terms(h, order, config_.solver_type);

  std::vector<double> rhos;
  if (order == 1) {
    rhos = {0.5};  // diffusers' simplified order-1 corrector
  } else {  // R rho = b over all `order` rows
    std::vector<std::vector<double>> r(order, std::vector<double>(order));
    for (int row = 0; row < order; ++row) {
      for (int col = 0; col < order; ++col) r[row][col] = std::pow(rks[col], row);
    }
    rhos = solve(r, phi.b);
  }
  at::Tensor correction = (x0_now - m0) * static_cast<float>(rhos.back());
  for (std::size_t k = 0; k < d1s.size(); ++k) correction += d1s[k] * static_cast<float>(rhos[k]);
  return last_sample * (sigma_t / sigma_s0) - m0 * (alpha_t * phi.h_phi_1) -
         correction * (alpha_t * phi.b_h);
}

at::Tensor UniPCMultistepScheduler::step(const at::Tensor& velocity, const at::Tensor& sample) {
  TORCH_CHECK(step_index_ < steps(), "UniPCMultistepScheduler: all ", steps(),
              " steps were taken");
  TORCH_CHECK(velocity.sizes() == sample.sizes(), "UniPCMultistepScheduler: velocity ",
              velocity.sizes(), " and sample ", sample.sizes(), " differ in shape");
  const int i = step_index_;
  const at::Tensor x = sample.to(at::kFloat);
  const at::Tensor x0 = x - velocity.to(at::kFloat) * static_cast<double>(sigmas_[i]);

  const bool disabled = std::find(config_.disable_corrector.begin(),
                                  config_.disable_corrector.end(),
                                  i - 1) != config_.disable_corrector.end();
  at::Tensor current = x;
  if (i > 0 && !disabled && last_sample_.defined()) {
    current = correct(x0, last_sample_, this_order_);
  }

  x0_history_.push_back(x0);
  if (static_cast<int>(x0_history_.size()) > config_.solver_order) x0_history_.pop_front();

  int order = config_.solver_order;
  if (config_.lower_order_final) order = std::min(order, steps() - i);
  this_order_ = std::min(order, lower_order_count_ + 1);  // warm-up: one more x0 each step
  last_sample_ = current;
  const at::Tensor next = predict(current, this_order_);
  lower_order_count_ = std::min(lower_order_count_ + 1, config_.solver_order);
  ++step_index_;
  return next.to(sample.scalar_type());
}

}  // namespace sagegen
