// UniPC multistep (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast
// Sampling of Diffusion Models") with flow sigmas, as diffusers' UniPCMultistepScheduler runs it
// for Wan (prediction_type flow_prediction, use_flow_sigmas, predict_x0): the sampler Wan2.1's
// diffusers folders ship. Numerics follow diffusers step for step; sigmas are float32 and
// timesteps int64 as there, so the model sees the same timestep inputs.
//
// Schedule for n steps: sigma_i = shift s / (1 + (shift - 1) s) over s = linspace(1, 1/N, n + 1)
// without its last value (N = num_train_timesteps); sigma_0 = 1 becomes 1 - 1e-6 (diffusers keeps
// log(sigma) finite); timesteps_i = trunc(N sigma_i); a final sigma of 0 (or the last sigma).
// Each step converts the velocity v to x0 = x - sigma v, corrects the current sample (UniC, from
// the second step on) and predicts the next one (UniP) from up to solver_order past x0's.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <deque>
#include <vector>

namespace sagegen {

enum class UniPCSolverType : std::uint8_t { kBh1, kBh2 };  // B(h) = h, or e^h - 1
enum class FinalSigma : std::uint8_t { kZero, kSigmaMin };  // last sigma 0, or the smallest

struct UniPCConfig {
  int num_train_timesteps = 1000;
  int solver_order = 2;  // >= 1
  UniPCSolverType solver_type = UniPCSolverType::kBh2;
  bool lower_order_final = true;        // order 1 for the last step (and 2 before it, ...)
  std::vector<int> disable_corrector;   // steps whose sample is not corrected at the next step
  double flow_shift = 1.0;              // > 0 (Wan2.1: 3.0 at 480p, 5.0 at 720p)
  FinalSigma final_sigma = FinalSigma::kZero;
};

class UniPCMultistepScheduler {
 public:
  // steps >= 1. Throws c10::Error for a bad config (the folder reader gives named errors first).
  UniPCMultistepScheduler(const UniPCConfig& config, int steps);

  int steps() const { return static_cast<int>(timesteps_.size()); }
  const std::vector<float>& sigmas() const { return sigmas_; }           // steps + 1
  const std::vector<std::int64_t>& timesteps() const { return timesteps_; }  // steps
  const UniPCConfig& config() const { return config_; }

  // The step the next call to step() takes (0 after construction or reset()).
  int step_index() const { return step_index_; }
  // The model's timestep input for the next step(): timesteps()[step_index()].
  double timestep() const;

  // One step: `velocity` is the model's output at `sample` (the flow velocity noise - x0).
  // Returns the sample for the next step, in sample's dtype (computed in float32).
  at::Tensor step(const at::Tensor& velocity, const at::Tensor& sample);

  void reset();  // forget the history, back to step 0

 private:
  double lambda(int sigma_index) const;  // log(alpha / sigma) with alpha = 1 - sigma
  at::Tensor predict(const at::Tensor& x, int order) const;
  at::Tensor correct(const at::Tensor& x0_now, const at::Tensor& last_sample, int order) const;

  UniPCConfig config_;
  std::vector<float> sigmas_;
  std::vector<std::int64_t> timesteps_;
  int step_index_ = 0;
  std::deque<at::Tensor> x0_history_;  // newest last; at most solver_order entries
  at::Tensor last_sample_;
  int lower_order_count_ = 0;
  int this_order_ = 0;
};

}  // namespace sagegen
