// UniPC multistep with flow sigmas against diffusers' UniPCMultistepScheduler (reference made by
// scripts/wan_parity/make_fixtures.py): schedules (sigmas, timesteps) for several step counts and
// shifts, and whole trajectories of step() on fixed model outputs (Wan's order-2 bh2 config,
// order 3 with bh1 and a disabled corrector, order 1). Plus the scheduler_config.json reader.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "sagegen/diffusers/scheduler_config.h"
#include "sagegen/errors.h"
#include "sagegen/unipc_scheduler.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

using testing::relative_max_error;
using testing::wan_reference;

UniPCConfig wan_config(double shift) {
  UniPCConfig c;
  c.flow_shift = shift;
  return c;
}

TEST(UniPC, SigmasAndTimestepsMatchDiffusers) {
  const io::NamedTensors ref = wan_reference("unipc");
  for (const int steps : {1, 2, 4, 10, 50}) {
    for (const double shift : {1.0, 3.0, 5.0}) {
      const std::string key =
          "shift" + std::to_string(static_cast<int>(shift)) + "_steps" + std::to_string(steps);
      SCOPED_TRACE(key);
      const UniPCMultistepScheduler scheduler(wan_config(shift), steps);
      const at::Tensor sigmas = ref.at("sigmas." + key);
      const at::Tensor timesteps = ref.at("timesteps." + key);
      ASSERT_EQ(static_cast<std::int64_t>(scheduler.sigmas().size()), sigmas.numel());
      ASSERT_EQ(static_cast<std::int64_t>(scheduler.timesteps().size()), timesteps.numel());
      for (int i = 0; i < sigmas.numel(); ++i) {
        EXPECT_EQ(scheduler.sigmas()[i], sigmas[i].item<float>()) << "sigma " << i;
      }
      for (int i = 0; i < timesteps.numel(); ++i) {
        EXPECT_EQ(scheduler.timesteps()[i], timesteps[i].item<std::int64_t>()) << "timestep " << i;
      }
    }
  }
}

// Runs step() over the reference's model outputs; every sample must match diffusers'.
double run_trajectory(const io::NamedTensors& ref, const std::string& name,
                      const UniPCConfig& config, int steps) {
  UniPCMultistepScheduler scheduler(config, steps);
  at::Tensor sample = ref.at(name + ".initial");
  double worst = 0;
  for (int i = 0; i < steps; ++i) {
    EXPECT_EQ(scheduler.step_index(), i);
    sample = scheduler.step(ref.at(name + ".model_output." + std::to_string(i)), sample);
    const double error = relative_max_error(sample, ref.at(name + ".sample." + std::to_string(i)));
    EXPECT_LE(error, 1e-5) << name << " step " << i;
    worst = std::max(worst, error);
  }
  EXPECT_THROW(scheduler.step(sample, sample), c10::Error);  // all steps taken
  return worst;
}

TEST(UniPC, WanTrajectoryMatchesDiffusers) {
  const io::NamedTensors ref = wan_reference("unipc");
  const double worst = run_trajectory(ref, "wan", wan_config(3.0), 5);
  std::printf("UniPC wan (order 2, bh2, 5 steps): max relative error %.3g\n", worst);
}

TEST(UniPC, Order3Bh1WithDisabledCorrectorMatchesDiffusers) {
  const io::NamedTensors ref = wan_reference("unipc");
  UniPCConfig config = wan_config(5.0);
  config.solver_order = 3;
  config.solver_type = UniPCSolverType::kBh1;
  config.disable_corrector = {2};
  config.final_sigma = FinalSigma::kSigmaMin;
  const double worst = run_trajectory(ref, "order3_bh1", config, 6);
  std::printf("UniPC order 3, bh1, 6 steps: max relative error %.3g\n", worst);
}

TEST(UniPC, Order1MatchesDiffusers) {
  const io::NamedTensors ref = wan_reference("unipc");
  UniPCConfig config = wan_config(3.0);
  config.solver_order = 1;
  run_trajectory(ref, "order1", config, 3);
}

TEST(UniPC, ResetStartsOver) {
  const io::NamedTensors ref = wan_reference("unipc");
  UniPCMultistepScheduler scheduler(wan_config(3.0), 5);
  const at::Tensor x = ref.at("wan.initial");
  const at::Tensor first = scheduler.step(ref.at("wan.model_output.0"), x);
  scheduler.step(ref.at("wan.model_output.1"), first);
  scheduler.reset();
  EXPECT_EQ(scheduler.step_index(), 0);
  EXPECT_DOUBLE_EQ(scheduler.timestep(), 999.0);
  EXPECT_TRUE(at::equal(scheduler.step(ref.at("wan.model_output.0"), x), first));
}

TEST(UniPCConfigJson, ReadsTheWanFolderScheduler) {
  const UniPCConfig config = diffusers::read_unipc_scheduler_config(
      testing::wan_tiny_folder() / "scheduler" / "scheduler_config.json");
  EXPECT_EQ(config.num_train_timesteps, 1000);
  EXPECT_EQ(config.solver_order, 2);
  EXPECT_EQ(config.solver_type, UniPCSolverType::kBh2);
  EXPECT_TRUE(config.lower_order_final);
  EXPECT_DOUBLE_EQ(config.flow_shift, 3.0);
  EXPECT_EQ(config.final_sigma, FinalSigma::kZero);
  EXPECT_TRUE(config.disable_corrector.empty());
}

// Writes the fixture's scheduler_config.json with `key` set to `value` (null: removed) and
// returns the error message of reading it ("" when it reads).
std::string error_with(const std::string& key, const nlohmann::json& value) {
  std::ifstream in(testing::wan_tiny_folder() / "scheduler" / "scheduler_config.json");
  nlohmann::json json = nlohmann::json::parse(in);
  json[key] = value;
  testing::TempDir dir;
  const auto path = dir.path() / "scheduler_config.json";
  std::ofstream(path) << json.dump(2);
  try {
    diffusers::read_unipc_scheduler_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(UniPCConfigJson, UnsupportedValuesNameFileAndKey) {
  EXPECT_EQ(error_with("flow_shift", 5.0), "");
  EXPECT_EQ(error_with("_diffusers_version", "0.33.0"), "");
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"use_karras_sigmas", true},
           {"prediction_type", "epsilon"},
           {"use_flow_sigmas", false},
           {"thresholding", true},
           {"solver_type", "bh3"},
           {"final_sigmas_type", "sigma_max"},
           {"solver_order", "two"},
           {"flow_shift", -1.0},
           {"use_dynamic_shifting", true},
           {"shift_terminal", 0.1},
           {"no_such_key", 1},
       }) {
    const std::string message = error_with(key, value);
    EXPECT_NE(message.find("scheduler_config.json: " + key + ":"), std::string::npos)
        << key << " -> " << message;
  }
  const std::string bh1 = error_with("solver_type", "bh1");
  EXPECT_NE(bh1.find("NaN"), std::string::npos) << bh1;
  const std::string wrong_class = error_with("_class_name", "DDIMScheduler");
  EXPECT_NE(wrong_class.find("_class_name: DDIMScheduler is not supported"), std::string::npos)
      << wrong_class;
}

}  // namespace
}  // namespace sagegen
