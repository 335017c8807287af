#include "sagegen/diffusers/wan_denoise.h"

#include <ATen/ATen.h>

#include "sagegen/scheduler.h"

namespace sagegen::diffusers {

at::Tensor wan_denoise(const models::WanTransformer3DModel& transformer,
                       UniPCMultistepScheduler& scheduler, at::Tensor latents,
                       const at::Tensor& prompt_embeds, const at::Tensor& negative_embeds,
                       double guidance_scale, AttentionContext& attention,
                       const std::function<void(int, const at::Tensor&)>& on_step) {
  TORCH_CHECK(scheduler.step_index() == 0, "wan_denoise: the scheduler has taken ",
              scheduler.step_index(), " steps already");
  TORCH_CHECK(latents.dim() == 5 && latents.size(0) == 1, "wan_denoise: latents must be ",
              "[1, C, F, H, W], got ", latents.sizes());
  const bool guided = guidance_scale > 1.0;  // diffusers' do_classifier_free_guidance
  const at::Tensor text = guided ? at::cat({prompt_embeds, negative_embeds}) : prompt_embeds;
  const std::int64_t batch = text.size(0);
  latents = latents.to(at::kFloat);
  for (int i = 0; i < scheduler.steps(); ++i) {
    attention.set_step(i);
    const at::Tensor timestep =
        at::full({batch}, scheduler.timestep(), latents.options().dtype(at::kFloat));
    const at::Tensor velocity =
        transformer.forward(latents.expand({batch, -1, -1, -1, -1}), timestep, text, attention);
    const at::Tensor guided_velocity =
        guided ? guide(velocity.slice(0, 0, 1), velocity.slice(0, 1, 2), guidance_scale)
               : velocity;
    latents = scheduler.step(guided_velocity, latents);
    if (on_step) on_step(i, latents);
  }
  attention.set_step(-1);
  return latents;
}

}  // namespace sagegen::diffusers
