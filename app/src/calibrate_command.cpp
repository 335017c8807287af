// `sagegen calibrate`: full-precision runs over calibration prompts x seeds, every candidate
// variant measured on each DiT attention call, a table chosen by --mode and written with its
// CSV and heat-map. The library does the work (sagegen/calibrate/); this file is flags, files
// and progress.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "calibrate_args.h"
#include "commands.h"
#include "error_message.h"
#include "output_paths.h"
#include "generation_job.h"
#include "progress_bar.h"
#include "sageattn/attention.h"
#include "sagegen/calibrate/heatmap.h"
#include "sagegen/calibrate/metrics_csv.h"
#include "sagegen/calibrate/table_from_decisions.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

namespace fs = std::filesystem;
using sageattn::Variant;

// Outputs may go to a folder that does not exist yet (the default outputs/).
void create_parent(const std::string& path) {
  std::error_code ec;
  if (const fs::path parent = fs::path(path).parent_path(); !path.empty() && !parent.empty()) {
    fs::create_directories(parent, ec);  // a failure shows when the file is written
  }
}

constexpr const char* kArchOnCpu =
    "--arch: calibrating on the CPU, --mode ladder needs the target GPU arch (e.g. --arch sm90)";

// --costs FILE, else configs/costs/<arch>.yaml; its arch must be the target's.
calibrate::ArchCosts load_costs(const CalibrateArgs& args, const std::string& arch) {
  std::string path = args.costs_file;
  if (path.empty()) {
    try {
      path = calibrate::find_costs_file(arch);
    } catch (const ConfigError& e) {
      throw UsageError(cli_error_message(e) + "; give one with --costs FILE");
    }
  }
  calibrate::ArchCosts costs = calibrate::load_arch_costs(path);
  if (costs.arch != arch) {
    throw UsageError("--costs: '" + costs.path + "' is for " + costs.arch + ", the target arch is " +
                     arch);
  }
  return costs;
}

// The arch the ladder's costs are for: --arch, else this GPU's.
std::string target_arch(const CalibrateArgs& args, const Pipeline& pipeline) {
  const bool on_gpu = pipeline.device_name().rfind("cuda", 0) == 0;
  const int gpu_sm = on_gpu ? sageattn::cuda_arch(0) : 0;
  if (args.arch) {
    if (gpu_sm != 0 && calibrate::arch_name(gpu_sm) != *args.arch) {
      spdlog::warn("calibrate: measuring on {} (sm{}) for a table that targets {}: the errors are "
                   "this GPU's kernels', the costs are {}'s", pipeline.device_name(), gpu_sm,
                   *args.arch, *args.arch);
    }
    return *args.arch;
  }
  if (!on_gpu) throw UsageError(kArchOnCpu);
  if (gpu_sm == 0) {
    throw UsageError("--arch: this libsageattn has no CUDA kernels, so it cannot tell the GPU's "
                     "arch; pass --arch (e.g. --arch sm90)");
  }
  return calibrate::arch_name(gpu_sm);
}

void print_summary(const calibrate::Decisions& decisions, const calibrate::Measurement& m) {
  std::string counts;
  for (Variant v : calibrate::ladder_order()) {
    if (const int n = decisions.count(v); n > 0) {
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", sageattn::to_string(v), n);
    }
  }
  spdlog::info("calibrate: {} DiT attention calls measured over {} runs; (layer, step) pairs: {}",
               m.calls, m.runs, counts);
}

}  // namespace

int run_calibrate(const CommandLine& cl) {
  const CalibrateArgs args = parse_calibrate_args(cl.command_args);
  if (args.help) {
    std::fputs(kCalibrateUsage, stdout);
    return 0;
  }
  if (args.log_level) spdlog::set_level(*args.log_level);
  const GenerateRequest& base = args.settings.request;

  calibrate::CalibrationOptions options;
  options.prompts = args.prompts_file.empty() ? calibrate::default_calibration_prompts(base.frames)
                                              : read_calibration_prompts(args.prompts_file);
  options.seeds = args.seeds;
  options.sampling = SamplingSettings::of(base);
  options.negative_prompt = base.negative_prompt;

  // What can be checked without the model is checked before it loads (a big model takes long).
  refuse_existing(args.out, "--out", args.overwrite);
  refuse_existing(args.csv, "--csv", args.overwrite);
  refuse_existing(args.heatmap, "--heatmap", args.overwrite);
  if (args.mode == calibrate::Mode::kLadder && !args.arch &&
      args.settings.load.device == DeviceChoice::kCpu) {
    throw UsageError(kArchOnCpu);
  }
  std::optional<calibrate::ArchCosts> costs;
  if (args.mode == calibrate::Mode::kLadder && args.arch) costs = load_costs(args, *args.arch);

  auto pipeline = Pipeline::load(args.settings.load);
  const std::string out = args.out.empty()
                              ? "outputs/calibrated-" + pipeline->model_name() + "-" +
                                    std::string(calibrate::to_string(args.mode)) + ".yaml"
                              : args.out;
  if (args.out.empty()) refuse_existing(out, "--out", args.overwrite);  // the default name
  check_size_against_patch(*pipeline, base, "--size");

  calibrate::ChoiceSettings choice;
  choice.mode = args.mode;
  choice.ratio = args.ratio;
  choice.floor = args.floor;
  if (args.mode == calibrate::Mode::kLadder) {
    const std::string arch = target_arch(args, *pipeline);
    choice.costs = costs ? *costs : load_costs(args, arch);
    if (!choice.costs->measured) {
      spdlog::warn("calibrate: the costs for {} are estimates ({})", arch, choice.costs->source);
    }
  }

  spdlog::info("calibrate: model {} on {}, {} prompts x {} seeds, {} steps, {}x{}x{}, mode {}",
               pipeline->model_name(), pipeline->device_name(), options.prompts.size(),
               options.seeds.size(), options.sampling.steps, options.sampling.width,
               options.sampling.height, options.sampling.frames,
               calibrate::to_string(args.mode));
  // Per-generation info lines would bury the bar; --log-level info brings them back.
  if (!args.log_level) spdlog::set_level(spdlog::level::warn);
  const int total = static_cast<int>(options.prompts.size() * options.seeds.size());
  ProgressBar bar("calibrate", total, progress_style_for(stderr));
  const auto start = std::chrono::steady_clock::now();
  const calibrate::Measurement measurement =
      calibrate::measure(*pipeline, options, [&](int done, int) {
        bar.update(done, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      });
  bar.finish();
  if (!args.log_level) spdlog::set_level(spdlog::level::info);

  const calibrate::Decisions decisions = calibrate::decide(measurement.grid, choice);
  if (args.mode == calibrate::Mode::kLadder &&
      decisions.count(Variant::kFp16) == decisions.observed()) {
    spdlog::warn("calibrate: the ladder chose fp16 everywhere ({}); on this arch no quantized "
                 "variant is both cheaper than fp16 and above the floor {:g}",
                 choice.costs->path, choice.floor);
  }
  const sageattn::PrecisionTable table =
      calibrate::table_from_decisions(decisions, pipeline->model_name(), out);
  const std::string header =
      calibrate::table_header(options, choice, measurement, decisions, pipeline->model_name(),
                              pipeline->device_name(), calibrate::utc_now());
  for (const std::string& path : {out, args.csv, args.heatmap}) create_parent(path);
  try {
    table.save(out, header);
  } catch (const sageattn::TableError& e) {
    throw UsageError(std::string("--out: ") + e.what());
  }
  print_summary(decisions, measurement);
  std::printf("%s\n", out.c_str());
  if (!args.csv.empty()) {
    calibrate::write_metrics_csv(args.csv, measurement.grid, decisions);
    std::printf("%s\n", args.csv.c_str());
  }
  if (!args.heatmap.empty()) {
    calibrate::write_heatmap_png(args.heatmap, measurement.grid, decisions,
                                 pipeline->model_name() + " " +
                                     std::string(calibrate::to_string(args.mode)));
    std::printf("%s\n", args.heatmap.c_str());
  }
  return 0;
}

}  // namespace sagegen::cli
