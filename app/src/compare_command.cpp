// `sagegen compare`: one prompt and seed under several attention variants and/or adaptive
// tables, each measured against full precision (fp16) from the same seed: PSNR, SSIM, prompt
// adherence and time, drawn as a labelled grid PNG and written as CSV and JSON.
#include <cstdio>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "compare_figure.h"
#include "compare_options.h"
#include "compare_report.h"
#include "generation_job.h"
#include "output_paths.h"
#include "progress_bar.h"
#include "sageattn/table.h"
#include "sagegen/eval/adherence.h"
#include "sagegen/io/image.h"
#include "sagegen/io/json.h"
#include "sagegen/model_config.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

namespace fs = std::filesystem;

struct CompareFiles {
  fs::path grid, csv, json;
};

CompareFiles compare_files(const CompareOptions& options, const GenerateRequest& request) {
  const fs::path dir = options.out.empty()
                           ? fs::path("outputs") / ("compare-" + default_stem(request.prompt, request.seed))
                           : fs::path(options.out);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw UsageError("--out: '" + dir.string() + "' is a file; compare writes a directory");
  }
  CompareFiles files{dir / "grid.png", dir / "compare.csv", dir / "compare.json"};
  if (!options.overwrite) {
    for (const fs::path& path : {files.grid, files.csv, files.json}) {
      if (fs::exists(path, ec)) throw UsageError("--out: '" + path.string() + "' exists (pass --overwrite to replace it)");
    }
  }
  return files;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Each table parsed and checked against the model and step count before the model loads, so a
// table for another model fails at once with one line, not after the reference has run.
std::vector<sageattn::ResolvedTable> check_tables(const std::vector<std::string>& tables,
                                                  const ModelConfig& config, int steps) {
  std::vector<sageattn::ResolvedTable> resolved;
  for (const std::string& path : tables) {
    try {
      resolved.push_back(sageattn::PrecisionTable::load_file(path).resolve(
          config.name, config.dit_attention_layers(), steps));
    } catch (const sageattn::TableError& e) {
      throw UsageError("--tables: " + first_line(e.what()));
    }
  }
  return resolved;
}

// Every variant a table uses must run on the pipeline's device.
void check_table_variants(const std::vector<std::string>& tables,
                          const std::vector<sageattn::ResolvedTable>& resolved, const Pipeline& pipeline) {
  for (std::size_t i = 0; i < tables.size(); ++i) {
    for (const std::string& name : sageattn::variant_names()) {
      const sageattn::Variant variant = *sageattn::parse_variant(name);
      if (resolved[i].count(variant) == 0) continue;
      const std::string why = pipeline.why_variant_unsupported(variant);
      if (!why.empty()) {
        throw UsageError("--tables: " + tables[i] + ": uses " + name + ", which cannot run on " +
                         pipeline.device_name() + ": " + first_line(why));
      }
    }
  }
}

std::vector<sageattn::Variant> runnable_variants(const CompareOptions& options, const Pipeline& pipeline) {
  const bool use_defaults = options.variants.empty() && options.tables.empty();
  std::vector<sageattn::Variant> variants;
  for (const auto variant : use_defaults ? default_compare_variants() : options.variants) {
    const std::string why = pipeline.why_variant_unsupported(variant);
    const std::string name(sageattn::to_string(variant));
    if (why.empty()) {
      variants.push_back(variant);
    } else if (use_defaults) {
      spdlog::warn("compare: skipping {}: it cannot run on {}: {}", name, pipeline.device_name(), first_line(why));
    } else {
      throw UsageError("--variants: " + name + " cannot run on " + pipeline.device_name() + ": " + first_line(why));
    }
  }
  return variants;
}

std::optional<AdherenceCount> adherence_of(const std::optional<eval::PromptSpec>& spec, const at::Tensor& video) {
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

// One timed generation. On CUDA an untimed denoising step runs first, so one-off costs (lazy
// kernel loading, cuDNN planning, allocator growth) are not charged to whichever entry happens
// to run first. Not on the CPU: there those costs are small and the golden model's step is
// slow (tens of seconds for sagegen-tiny at 64x64x8 on 2 cores): a warm-up would double the run.
GenerateResult generate_timed(Pipeline& pipeline, const GenerateRequest& request, const std::string& label) {
  if (pipeline.device_name().rfind("cuda", 0) == 0) {
    pipeline.time_denoise_step(request, /*warmup=*/0, /*repeats=*/1);
  }
  ProgressBar bar("compare " + label, request.steps, progress_style_for(stderr));
  GenerateResult result;
  try {
    result = pipeline.generate(request, [&bar](const StepProgress& p) { bar.update(p.step, p.seconds_elapsed); });
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();
  return result;
}

CompareEntry entry_of(CompareEntry::Kind kind, std::string label, std::string source, const GenerateResult& result,
                      const at::Tensor& reference, const std::optional<eval::PromptSpec>& spec) {
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

// The file name, or the path as given when two tables share a file name.
std::string table_label(const std::string& path, const std::vector<std::string>& tables) {
  const std::string name = fs::path(path).filename().string();
  int same = 0;
  for (const auto& other : tables) same += fs::path(other).filename().string() == name ? 1 : 0;
  return same > 1 ? path : name;
}

}  // namespace

int run_compare(const CommandLine& cl) {
  const CompareOptions options = parse_compare_args(cl.command_args);
  if (options.help) {
    std::fputs(compare_usage(), stdout);
    return 0;
  }
  if (options.log_level) spdlog::set_level(*options.log_level);
  GenerateRequest request = options.settings.request;
  if (request.width < eval::kSsimWindow || request.height < eval::kSsimWindow) {
    throw UsageError(fmt::format("--size: {}x{} is smaller than the {}x{} SSIM window", request.width,
                                 request.height, eval::kSsimWindow, eval::kSsimWindow));
  }
  request.seed = resolve_seed(request.seed);
  const CompareFiles files = compare_files(options, request);

  const ModelConfig config = model_config_of(options.settings.load.model);
  const auto resolved_tables = check_tables(options.tables, config, request.steps);
  // One model for the reference, every variant and every table (a table is per generation).
  auto pipeline = Pipeline::load(options.settings.load);
  check_size_against_patch(*pipeline, request, "--size");
  const std::vector<sageattn::Variant> variants = runnable_variants(options, *pipeline);
  check_table_variants(options.tables, resolved_tables, *pipeline);
  if (variants.empty() && options.tables.empty()) {
    throw UsageError("--variants: none of the default variants runs on " + pipeline->device_name());
  }
  std::optional<eval::PromptSpec> spec;
  try {
    spec = eval::parse_prompt(request.prompt);
  } catch (const std::invalid_argument& e) {
    spdlog::warn("compare: adherence not scored (the prompt is outside the shapes world's templates): {}",
                 first_line(e.what()));
  }
  if (pipeline->random_weights()) {
    spdlog::warn("compare: model '{}' has random weights: images are noise and adherence will be low",
                 pipeline->model_name());
  }

  CompareRun run;
  run.prompt = request.prompt;
  run.seed = request.seed;
  run.sampling = SamplingSettings::of(request);
  run.model_name = pipeline->model_name();
  run.device = pipeline->device_name();
  run.random_weights = pipeline->random_weights();

  GenerateRequest reference_request = request;
  reference_request.attention = sageattn::Variant::kFp16;
  const GenerateResult reference = generate_timed(*pipeline, reference_request, "fp16 (reference)");
  run.entries.push_back(
      entry_of(CompareEntry::Kind::kReference, "fp16 (reference)", "fp16", reference, reference.video, spec));

  for (const auto variant : variants) {
    const std::string name(sageattn::to_string(variant));
    GenerateRequest one = request;
    one.attention = variant;
    const GenerateResult result = generate_timed(*pipeline, one, name);
    run.entries.push_back(entry_of(CompareEntry::Kind::kVariant, name, name, result, reference.video, spec));
  }
  // The tables run on the same loaded model: a table is a per-generation choice.
  for (const std::string& path : options.tables) {
    GenerateRequest one = request;
    one.table = path;
    const std::string label = table_label(path, options.tables);
    const GenerateResult result = generate_timed(*pipeline, one, label);
    run.entries.push_back(entry_of(CompareEntry::Kind::kTable, label, path, result, reference.video, spec));
  }

  fs::create_directories(files.grid.parent_path().empty() ? fs::path(".") : files.grid.parent_path());
  io::write_png(files.grid, draw_compare_grid(run));
  write_text_file(files.csv, compare_csv(run));
  io::write_json(files.json, compare_json(run));
  std::printf("%s", compare_table(run).c_str());
  std::printf("%s\n%s\n%s\n", files.grid.string().c_str(), files.csv.string().c_str(), files.json.string().c_str());
  return 0;
}

}  // namespace sagegen::cli
