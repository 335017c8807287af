#include "sagegen/compare/compare.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>
#include <stdexcept>

#include "entry_checks.h"
#include "sagegen/eval/adherence.h"
#include "sagegen/eval/prompt_parser.h"

namespace sagegen::compare {
namespace {

namespace fs = std::filesystem;
using sageattn::Variant;

constexpr const char* kReferenceLabel = "fp16 (reference)";

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// What the request itself must hold before anything runs.
void check_request(const CompareRequest& request) {
  const GenerateRequest& g = request.generation;
  if (g.attention) {
    throw RequestError({{"attention", std::string(sageattn::to_string(*g.attention))}},
                       "each compare entry sets its own attention; leave it unset");
  }
  if (!g.table.empty()) {
    throw RequestError({{"table", g.table}},
                       "each compare entry sets its own table; leave it unset");
  }
  if (request.entries.empty()) {
    throw RequestError({{"entries", ""}},
                       "none given: name at least one variant or table to compare with fp16");
  }
  if (g.width < eval::kSsimWindow || g.height < eval::kSsimWindow) {
    throw RequestError(
        {{"width", std::to_string(g.width)}, {"height", std::to_string(g.height)}},
        fmt::format("smaller than the {}x{} SSIM window", eval::kSsimWindow, eval::kSsimWindow));
  }
}

std::optional<AdherenceCount> adherence_of(const std::optional<eval::PromptSpec>& spec,
                                           const at::Tensor& video) {
  if (!spec) return std::nullopt;
  const eval::PromptScore score = eval::score_prompt(*spec, video);
  AdherenceCount count;
  for (int a = 0; a < eval::kAttributeCount; ++a) {
    const auto attribute = static_cast<eval::Attribute>(a);
    if (const auto correct = score.at(attribute)) {
      ++count.asked;
      count.correct += *correct ? 1 : 0;
      count.attributes.emplace_back(std::string(eval::to_string(attribute)), *correct);
    }
  }
  return count;
}

// The prompt read in the shapes world's caption templates; nullopt (logged) outside them.
std::optional<eval::PromptSpec> prompt_spec(const std::string& prompt) {
  try {
    return eval::parse_prompt(prompt);
  } catch (const std::invalid_argument& e) {
    spdlog::warn(
        "compare: adherence not scored (the prompt is outside the shapes world's templates): {}",
        first_line(e.what()));
    return std::nullopt;
  }
}

// The file name, or the path as given when two tables share a file name.
std::string table_label(const std::string& path, const std::vector<EntrySpec>& entries) {
  const std::string name = fs::path(path).filename().string();
  int same = 0;
  for (const EntrySpec& other : entries) {
    if (other.kind == EntrySpec::Kind::kTable) {
      same += fs::path(other.table_path).filename().string() == name ? 1 : 0;
    }
  }
  return same > 1 ? path : name;
}

// One timed generation. On CUDA an untimed denoising step runs first, so one-off costs (lazy
// kernel loading, cuDNN planning, allocator growth) are not charged to whichever entry happens
// to run first. Not on the CPU: there those costs are small and the golden model's step is
// slow (tens of seconds for sagegen-tiny at 64x64x8 on 2 cores): a warm-up would double the run.
GenerateResult generate_timed(Pipeline& pipeline, const GenerateRequest& request,
                              const ProgressFn& step) {
  if (pipeline.device_name().rfind("cuda", 0) == 0) {
    pipeline.time_denoise_step(request, /*warmup=*/0, /*repeats=*/1);
  }
  return pipeline.generate(request, step);
}

CompareEntry measured(CompareEntry::Kind kind, std::string label, std::string source,
                      const GenerateResult& result, const at::Tensor& reference,
                      const std::optional<eval::PromptSpec>& spec) {
  CompareEntry entry;
  entry.kind = kind;
  entry.label = std::move(label);
  entry.source = std::move(source);
  entry.video = result.video;
  entry.quality = eval::compare_images(result.video, reference);
  entry.adherence = adherence_of(spec, result.video);
  entry.seconds_total = result.seconds_total;
  entry.seconds_per_step = result.seconds_per_step;
  entry.attention_calls = result.attention_calls;
  return entry;
}

}  // namespace

const std::vector<Variant>& default_variants() {
  static const std::vector<Variant> variants = {Variant::kSage2Int8, Variant::kSage2Int4,
                                                Variant::kSage1};
  return variants;
}

std::vector<Variant> runnable_default_variants(const Pipeline& pipeline) {
  std::vector<Variant> variants;
  for (const Variant variant : default_variants()) {
    const std::string why = pipeline.why_variant_unsupported(variant);
    if (why.empty()) {
      variants.push_back(variant);
    } else {
      spdlog::warn("compare: skipping {}: it cannot run on {}: {}", sageattn::to_string(variant),
                   pipeline.device_name(), first_line(why));
    }
  }
  return variants;
}

CompareRun run_comparison(Pipeline& pipeline, const CompareRequest& request,
                          const CompareProgress& progress) {
  check_request(request);
  const GenerateRequest& base = request.generation;
  const auto tables = resolve_table_entries(request.entries, pipeline.model_name(),
                                            pipeline.attention_layers(), base.steps);
  check_entries_run(request.entries, tables, pipeline);
  const std::optional<eval::PromptSpec> spec = prompt_spec(base.prompt);
  if (pipeline.random_weights()) {
    spdlog::warn(
        "compare: model '{}' has random weights: images are noise and adherence will be low",
        pipeline.model_name());
  }

  CompareRun run;
  run.prompt = base.prompt;
  run.seed = base.seed;
  run.sampling = SamplingSettings::of(base);
  run.model_name = pipeline.model_name();
  run.device = pipeline.device_name();
  run.random_weights = pipeline.random_weights();

  const int total = static_cast<int>(request.entries.size()) + 1;
  const auto start = [&](int index, const std::string& label) {
    if (progress.entry_started) progress.entry_started({index, total, label, base.steps});
  };

  GenerateRequest one = base;
  one.attention = Variant::kFp16;
  start(0, kReferenceLabel);
  const GenerateResult reference = generate_timed(pipeline, one, progress.step);
  run.entries.push_back(measured(CompareEntry::Kind::kReference, kReferenceLabel, "fp16", reference,
                                 reference.video, spec));

  // Every entry runs on the same loaded model: a variant or a table is a per-generation choice.
  for (std::size_t i = 0; i < request.entries.size(); ++i) {
    const EntrySpec& entry = request.entries[i];
    one = base;
    std::string label, source;
    if (entry.kind == EntrySpec::Kind::kVariant) {
      one.attention = entry.variant;
      label = source = std::string(sageattn::to_string(entry.variant));
    } else {
      one.table = entry.table_path;
      label = table_label(entry.table_path, request.entries);
      source = entry.table_path;
    }
    start(static_cast<int>(i) + 1, label);
    const GenerateResult result = generate_timed(pipeline, one, progress.step);
    run.entries.push_back(
        measured(entry.kind == EntrySpec::Kind::kVariant ? CompareEntry::Kind::kVariant
                                                         : CompareEntry::Kind::kTable,
                 std::move(label), std::move(source), result, reference.video, spec));
  }
  return run;
}

}  // namespace sagegen::compare
