// Pipeline::generate for a Wan2.1 diffusers folder: WanPipeline's stages (prompt features,
// UniPC denoising with classifier-free guidance, VAE decode) with the engine's timing, progress
// and NaN checks.
#pragma once

#include <string>

#include "sagegen/attention_context.h"
#include "sagegen/diffusers/wan_pipeline.h"
#include "sagegen/pipeline.h"

namespace sagegen {

// Fills result.video ([frames, height, width, 3] uint8 on the CPU) and result.step_seconds.
// `stage` names the stage running, for the caller's out-of-memory message. The request was
// checked (size, frames, steps) by the caller. Guidance runs when cfg_scale > 1, as in
// diffusers. request.shift other than 1 (the engine's default) replaces the scheduler's
// flow_shift.
void generate_wan_video(diffusers::WanTextToVideo& wan, const GenerateRequest& request,
                        const at::Device& device, AttentionContext& attention,
                        const ProgressFn& progress, GenerateResult& result, std::string& stage);

}  // namespace sagegen
