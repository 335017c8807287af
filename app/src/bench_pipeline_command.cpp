// `sagegen bench-pipeline`: seconds per denoising step under each attention variant, one model
// loaded once, on the GPU. The figures come from Pipeline::time_denoise_step.
#include <ATen/Context.h>

#include <algorithm>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "generation_job.h"
#include "rank_launch.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

constexpr const char* kDefaultBenchModel = "wan2.1-1.3b-shape";

struct BenchRow {
  sageattn::Variant variant;
  DenoiseStepTiming timing;
  std::string error;
};

std::int64_t total_calls(const DenoiseStepTiming& timing) {
  std::int64_t calls = 0;
  for (const auto& [name, count] : timing.attention_calls) calls += count;
  return calls;
}

}  // namespace

int run_bench_pipeline(const CommandLine& cl) {
  if (cl.settings.load.device == DeviceChoice::kCpu) {
    throw UsageError("--device: bench-pipeline times GPU steps; cpu is not supported");
  }
  if (!at::hasCUDA()) {
    std::fprintf(stderr, "sagegen: bench-pipeline needs a CUDA GPU and none is available\n");
    return kFailureExitCode;
  }
  LoadOptions load = cl.settings.load;
  load.device = DeviceChoice::kCuda;
  GenerateRequest request = cl.settings.request;
  const bool model_given =
      std::any_of(cl.generation_flags.begin(), cl.generation_flags.end(),
                  [](const auto& flag) { return flag.first == "model" || flag.first == "config"; });
  if (!model_given) load.model = kDefaultBenchModel;
  // Any prompt in the vocabulary: the text only sets the cross-attention keys and values.
  if (request.prompt.empty()) request.prompt = "a red circle";
  request.seed = resolve_seed(request.seed);

  std::vector<sageattn::Variant> variants = cl.bench.variants;
  if (variants.empty()) {
    variants = {sageattn::Variant::kFp16, sageattn::Variant::kSage1, sageattn::Variant::kSage2Int8,
                sageattn::Variant::kSage2Int4};
  }

  // With --gpus N every rank times its share of each step; rank 0 prints (docs/multi-gpu.md).
  const auto group = join_process_group(load);
  auto pipeline = Pipeline::load(load);
  check_size_against_patch(*pipeline, request, "--size");
  pipeline->use_sequence_parallel(group);
  spdlog::info("bench-pipeline: model '{}' on {}, {}x{}, {} frames, cfg {:g}; {} warm-up + {} "
               "timed steps per variant",
               pipeline->model_name(), pipeline->device_name(), request.width, request.height,
               request.frames, request.cfg_scale, cl.bench.warmup_steps, cl.bench.timed_steps);

  std::vector<BenchRow> rows;
  for (const auto variant : variants) {
    BenchRow row{variant, {}, ""};
    request.attention = variant;
    try {
      row.timing = pipeline->time_denoise_step(request, cl.bench.warmup_steps, cl.bench.timed_steps);
    } catch (const std::exception& e) {
      const std::string message = e.what();
      row.error = message.substr(0, message.find('\n'));
      spdlog::error("{}: {}", sageattn::to_string(variant), row.error);
    }
    rows.push_back(row);
  }
  if (group && group->rank() != 0) return 0;

  double fp16_seconds = 0;
  for (const auto& row : rows) {
    if (row.variant == sageattn::Variant::kFp16 && row.error.empty()) {
      fp16_seconds = row.timing.seconds_per_step;
    }
  }
  for (const auto& row : rows) {
    if (row.error.empty()) {
      std::printf("model %s on %s: batch %d x %lld video tokens + %lld text tokens\n",
                  pipeline->model_name().c_str(), row.timing.device.c_str(), row.timing.batch,
                  static_cast<long long>(row.timing.video_tokens),
                  static_cast<long long>(row.timing.text_tokens));
      break;
    }
  }
  // Attention share comes from a second pass that synchronises around every attention call, so
  // it is the attention time over that pass's step time, not over the unsynchronised s/step.
  std::printf("%-10s %10s %9s %12s %11s %10s\n", "variant", "s/step", "vs fp16", "attn s/step",
              "attn share", "calls/step");
  bool any_failed = false;
  for (const auto& row : rows) {
    const std::string name(sageattn::to_string(row.variant));
    if (!row.error.empty()) {
      std::printf("%-10s failed: %s\n", name.c_str(), row.error.c_str());
      any_failed = true;
      continue;
    }
    const DenoiseStepTiming& t = row.timing;
    const std::string ratio =
        fp16_seconds > 0 ? fmt::format("{:.2f}x", fp16_seconds / t.seconds_per_step) : "-";
    const double share =
        t.synced_seconds_per_step > 0 ? t.attention_seconds_per_step / t.synced_seconds_per_step : 0;
    std::printf("%-10s %10.4f %9s %12.4f %10.1f%% %10lld\n", name.c_str(), t.seconds_per_step,
                ratio.c_str(), t.attention_seconds_per_step, 100.0 * share,
                static_cast<long long>(total_calls(t)));
  }
  // Communication, from the synchronised pass as the attention share: rank 0's time inside the
  // collectives (all-to-alls, output gather, CFG exchange) and the bytes they sent to the others.
  for (const auto& row : rows) {
    const DenoiseStepTiming& t = row.timing;
    if (!row.error.empty() || t.ranks <= 1) continue;
    const std::string split =
        t.cfg_parallel ? fmt::format("CFG split, {} rank(s) a branch", t.ranks / 2)
                       : std::string("Ulysses over all");
    std::printf("%-10s %d ranks (%s): communication %.4f s/step (%.1f%% of the synchronised "
                "step), %.1f MB/step sent by rank 0\n",
                std::string(sageattn::to_string(row.variant)).c_str(), t.ranks, split.c_str(),
                t.communication_seconds_per_step,
                100.0 * t.communication_seconds_per_step / t.synced_seconds_per_step,
                t.communication_bytes_per_step / 1e6);
  }
  return any_failed ? kFailureExitCode : 0;
}

}  // namespace sagegen::cli
