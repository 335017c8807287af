// `sagegen bench-pipeline`: seconds per denoising step under each attention variant, one model
// loaded once, on the GPU. The figures are the pipeline's own per-step timings.
#include <ATen/Context.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "generation_job.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

constexpr const char* kDefaultBenchModel = "wan2.1-1.3b-shape";

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

struct BenchRow {
  sageattn::Variant variant;
  double seconds_per_step = 0;
  std::int64_t attention_calls_per_step = 0;
  std::string error;
};

}  // namespace

int run_bench_pipeline(const CommandLine& cl) {
  if (cl.settings.request.device == DeviceChoice::kCpu) {
    throw UsageError("--device: bench-pipeline times GPU steps; cpu is not supported");
  }
  if (!at::hasCUDA()) {
    std::fprintf(stderr, "sagegen: bench-pipeline needs a CUDA GPU and none is available\n");
    return kFailureExitCode;
  }
  GenerateRequest request = cl.settings.request;
  request.device = DeviceChoice::kCuda;
  const bool model_given = std::any_of(cl.generation_flags.begin(), cl.generation_flags.end(),
                                       [](const auto& f) { return f.first == "model" || f.first == "config"; });
  if (!model_given) request.model = kDefaultBenchModel;
  if (request.prompt.empty()) request.prompt = "benchmark";
  request.seed = resolve_seed(request.seed);
  request.steps = cl.bench.warmup_steps + cl.bench.timed_steps;

  std::vector<sageattn::Variant> variants = cl.bench.variants;
  if (variants.empty()) {
    variants = {sageattn::Variant::kFp16, sageattn::Variant::kSage1,
                sageattn::Variant::kSage2Int8, sageattn::Variant::kSage2Int4};
  }

  auto pipeline = Pipeline::load(request);
  check_size_against_patch(*pipeline, request, "--size");
  spdlog::info("bench-pipeline: model '{}' on {}, {}x{}x{} frames, cfg {:g}, {} warm-up + {} timed steps",
               pipeline->model_name(), pipeline->device_name(), request.width, request.height,
               request.frames, request.cfg_scale, cl.bench.warmup_steps, cl.bench.timed_steps);

  std::vector<BenchRow> rows;
  for (const auto variant : variants) {
    BenchRow row{variant};
    request.attention = variant;
    try {
      const GenerateResult result = pipeline->generate(request);
      const std::vector<double> timed(result.step_seconds.begin() + cl.bench.warmup_steps,
                                      result.step_seconds.end());
      row.seconds_per_step = median(timed);
      std::int64_t calls = 0;
      for (const auto& [name, count] : result.attention_calls) calls += count;
      row.attention_calls_per_step = calls / std::max(result.steps, 1);
    } catch (const std::exception& e) {
      const std::string message = e.what();
      row.error = message.substr(0, message.find('\n'));
      spdlog::error("{}: {}", sageattn::to_string(variant), row.error);
    }
    rows.push_back(row);
  }

  double fp16_seconds = 0;
  for (const auto& row : rows) {
    if (row.variant == sageattn::Variant::kFp16 && row.error.empty()) fp16_seconds = row.seconds_per_step;
  }
  std::printf("%-10s %12s %12s %18s\n", "variant", "s/step", "vs fp16", "attn calls/step");
  bool any_failed = false;
  for (const auto& row : rows) {
    const std::string name(sageattn::to_string(row.variant));
    if (!row.error.empty()) {
      std::printf("%-10s failed: %s\n", name.c_str(), row.error.c_str());
      any_failed = true;
      continue;
    }
    const std::string ratio =
        fp16_seconds > 0 ? fmt::format("{:.2f}x", fp16_seconds / row.seconds_per_step) : "-";
    std::printf("%-10s %12.4f %12s %18lld\n", name.c_str(), row.seconds_per_step, ratio.c_str(),
                static_cast<long long>(row.attention_calls_per_step));
  }
  return any_failed ? kFailureExitCode : 0;
}

}  // namespace sagegen::cli
