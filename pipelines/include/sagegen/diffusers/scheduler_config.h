// scheduler/scheduler_config.json of a Wan2.1 folder: diffusers' UniPCMultistepScheduler with
// flow sigmas, read strictly into a UniPCConfig.
#pragma once

#include <filesystem>

#include "sagegen/unipc_scheduler.h"

namespace sagegen::diffusers {

// Supported: prediction_type flow_prediction with use_flow_sigmas, predict_x0, solver_type
// bh1/bh2, any solver_order, lower_order_final, disable_corrector, flow_shift,
// final_sigmas_type zero/sigma_min. Other noise schedules (karras, exponential, beta, dynamic
// shifting, shift_terminal), thresholding, a solver_p, bh1 with a zero final sigma (diffusers
// ends that in NaN) and unknown keys are ConfigErrors naming the file and the key. Keys of the
// discrete-time schedule that flow sigmas never read (beta_*, timestep_spacing, ...) are ignored.
UniPCConfig read_unipc_scheduler_config(const std::filesystem::path& path);

}  // namespace sagegen::diffusers
