#include "generation_job.h"

#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "output_writer.h"
#include "progress_bar.h"
#include "sidecar.h"
#include "usage_error.h"

namespace sagegen::cli {

std::int64_t resolve_seed(std::int64_t seed) {
  if (seed >= 0) return seed;
  std::random_device device;
  // 31 bits: the seed stays a plain positive number in every tool that reads the sidecar.
  const std::int64_t drawn = std::uniform_int_distribution<std::int64_t>(0, (1LL << 31) - 1)(device);
  // Printed whatever the log level: without it a random result cannot be reproduced.
  std::fprintf(stderr, "seed: %lld (random)\n", static_cast<long long>(drawn));
  return drawn;
}

void check_size_against_patch(const Pipeline& pipeline, const GenerateRequest& request,
                              const std::string& size_flag) {
  const int ph = pipeline.patch_height();
  const int pw = pipeline.patch_width();
  if (request.width % pw != 0 || request.height % ph != 0) {
    throw UsageError(fmt::format(
        "{}: {}x{} is not a multiple of the patch {}x{} of model '{}' (e.g. {}x{})", size_flag,
        request.width, request.height, pw, ph, pipeline.model_name(),
        std::max(pw, request.width / pw * pw), std::max(ph, request.height / ph * ph)));
  }
}

bool output_finished(const OutputPaths& paths) {
  std::error_code ec;
  return std::filesystem::exists(paths.sidecar, ec);
}

ProgressFn step_progress_for(ProgressBar& bar) {
  return [&bar](const StepProgress& p) {
    bar.update(p.step, p.seconds_elapsed);
    // The pipeline logs right after its last step: the bar's line must be closed first.
    if (p.step == p.total) bar.finish();
  };
}

GenerateResult generate_to_files(Pipeline& pipeline, const LoadOptions& load,
                                 const GenerateRequest& request, OutputPaths& paths,
                                 const std::string& label) {
  ProgressBar bar(label, request.steps, progress_style_for(stderr));
  GenerateResult result;
  try {
    result = pipeline.generate(request, step_progress_for(bar));
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();
  // The pipeline has logged the model, the call counts and the timings; say where it went.
  write_media(result, request.fps, paths);
  write_sidecar(sidecar_json(load, request, result, paths, output_settings(request, pipeline)),
                paths.sidecar);
  spdlog::info("wrote {} and {}", paths.media.string(), paths.sidecar.filename().string());
  return result;
}

}  // namespace sagegen::cli
