#include "sagegen/diffusers/scheduler_config.h"

#include <nlohmann/json.hpp>

#include "sagegen/diffusers/json_config.h"

namespace sagegen::diffusers {

UniPCConfig read_unipc_scheduler_config(const std::filesystem::path& path) {
  JsonConfig json = JsonConfig::load(path);
  json.expect_class({"UniPCMultistepScheduler"});
  UniPCConfig config;
  // Defaults are UniPCMultistepScheduler.__init__'s.
  config.num_train_timesteps = json.integer_or("num_train_timesteps", 1000);
  if (config.num_train_timesteps < 1) json.fail("num_train_timesteps", "must be >= 1");
  config.solver_order = json.integer_or("solver_order", 2);
  if (config.solver_order < 1 || config.solver_order > 4) {
    json.fail("solver_order", "must be in 1..4");
  }
  config.solver_type =
      json.one_of("solver_type", {"bh1", "bh2"}, "bh2") == "bh1" ? UniPCSolverType::kBh1
                                                                 : UniPCSolverType::kBh2;
  config.lower_order_final = json.boolean_or("lower_order_final", true);
  config.disable_corrector = json.integers_or("disable_corrector", {});
  config.flow_shift = json.number_or("flow_shift", 1.0);
  if (!(config.flow_shift > 0)) json.fail("flow_shift", "must be > 0");
  config.final_sigma = json.one_of("final_sigmas_type", {"zero", "sigma_min"}, "zero") == "zero"
                           ? FinalSigma::kZero
                           : FinalSigma::kSigmaMin;
  if (config.solver_type == UniPCSolverType::kBh1 && config.final_sigma == FinalSigma::kZero) {
    json.fail("solver_type", "bh1 with final_sigmas_type \"zero\" ends in NaN in diffusers "
                             "(B(h) = -inf times 0 at the last step); use bh2 or sigma_min");
  }

  const std::string flow_only = "sagegen runs UniPC with flow sigmas, as Wan2.1 ships it";
  json.expect("prediction_type", "flow_prediction", flow_only);
  json.expect("use_flow_sigmas", true, flow_only);
  json.expect("predict_x0", true, "diffusers requires it for flow_prediction");
  json.expect("use_karras_sigmas", false, flow_only);
  json.expect("use_exponential_sigmas", false, flow_only);
  json.expect("use_beta_sigmas", false, flow_only);
  json.expect("use_dynamic_shifting", false, "a fixed flow_shift");
  json.expect("shift_terminal", nullptr, "no terminal stretch");
  json.expect("thresholding", false, "no dynamic thresholding");
  json.expect("solver_p", nullptr, "UniPC's own predictor");
  // Read only by the discrete-time (beta) schedule, by the timestep spacing that flow sigmas
  // overwrite, by thresholding, or by dynamic shifting, none of which run here.
  json.ignore({"beta_start", "beta_end", "beta_schedule", "trained_betas",
               "rescale_betas_zero_snr", "timestep_spacing", "steps_offset",
               "dynamic_thresholding_ratio", "sample_max_value", "time_shift_type", "sigma_min",
               "sigma_max"});
  json.finish();
  return config;
}

}  // namespace sagegen::diffusers
