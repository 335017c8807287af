// WanPipeline's denoising loop: at every step of the scheduler, the transformer's velocity for
// the prompt and (guidance_scale > 1) the negative prompt, classifier-free guidance, one
// scheduler step. Cond and uncond run as one batch of 2 (diffusers runs two calls; the
// difference is float rounding).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

#include "sagegen/attention_context.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/unipc_scheduler.h"

namespace sagegen::diffusers {

// latents [1, C, F, H, W] float32 (the initial noise); prompt_embeds, negative_embeds
// [1, text_length, text_dim]. The scheduler must be fresh (step 0) and runs to its end; the
// model sees its int64 timesteps. attention.set_step(i) precedes step i; on_step(i, latents)
// follows it. Returns the denoised latents (float32).
at::Tensor wan_denoise(const models::WanTransformer3DModel& transformer,
                       UniPCMultistepScheduler& scheduler, at::Tensor latents,
                       const at::Tensor& prompt_embeds, const at::Tensor& negative_embeds,
                       double guidance_scale, AttentionContext& attention,
                       const std::function<void(int, const at::Tensor&)>& on_step = {});

}  // namespace sagegen::diffusers
