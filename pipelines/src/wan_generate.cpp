#include "wan_generate.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <chrono>

#include "sagegen/errors.h"
#include "sagegen/scheduler.h"

namespace sagegen {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

void generate_wan_video(diffusers::WanTextToVideo& wan, const GenerateRequest& request,
                        const at::Device& device, AttentionContext& attention,
                        const ProgressFn& progress, GenerateResult& result, std::string& stage) {
  const auto start = Clock::now();
  stage = "text encoding";
  const StageMeter text_meter(device, "text encoding");
  const bool guided = request.cfg_scale > 1.0;  // WanPipeline's do_classifier_free_guidance
  std::vector<std::string> prompts = {request.prompt};
  if (guided) prompts.push_back(request.negative_prompt);
  const at::Tensor embeds = wan.prompt_embeddings(prompts, attention);
  result.stages.push_back(text_meter.finish());
  // The same draw as diffusers' randn_tensor with torch.Generator().manual_seed(seed).
  const at::Tensor noise = initial_noise(
      wan.latent_shape(request.width, request.height, request.frames), request.seed, device);
  const double shift = request.shift != 1.0 ? request.shift : 0.0;
  if (shift > 0) {
    spdlog::info("--shift {:g} replaces the scheduler's flow_shift {:g}", shift,
                 wan.scheduler_config().flow_shift);
  }
  const StageMeter denoise_meter(device, "denoising");
  auto step_start = Clock::now();
  const auto on_step = [&](int step, const at::Tensor& latents) {
    // One reduction per step (a sync on CUDA); NaN/Inf must never become a video.
    if (!at::isfinite(latents).all().item<bool>()) {
      throw RunError(fmt::format("non-finite values (NaN/Inf) in the latent at step {} of {}",
                                 step + 1, request.steps));
    }
    result.step_seconds.push_back(seconds_since(step_start));
    step_start = Clock::now();
    if (progress) progress(StepProgress{step + 1, request.steps, seconds_since(start)});
    stage = fmt::format("step {} of {}", step + 2, request.steps);
  };
  stage = fmt::format("step 1 of {}", request.steps);
  const at::Tensor latents =
      wan.denoise(noise, embeds.slice(0, 0, 1), guided ? embeds.slice(0, 1, 2) : at::Tensor(),
                  request.steps, request.cfg_scale, shift, attention, on_step);
  result.stages.push_back(denoise_meter.finish());
  stage = "VAE decoding";
  const StageMeter decode_meter(device, "VAE decoding");
  const at::Tensor video = wan.decode(latents);  // [1, 3, F, H, W] in [-1, 1]
  // [-1, 1] -> uint8 [F, H, W, 3]
  result.video = ((video[0].permute({1, 2, 3, 0}) + 1.0) * 127.5)
                     .round()
                     .to(at::kByte)
                     .to(at::kCPU)
                     .contiguous();
  result.stages.push_back(decode_meter.finish());
}

}  // namespace sagegen
