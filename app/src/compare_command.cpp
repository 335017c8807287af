// `sagegen compare`: one prompt and seed under several attention variants and/or adaptive
// tables, each measured against full precision (fp16) from the same seed: PSNR, SSIM, prompt
// adherence and time, drawn as a labelled grid PNG and written as CSV and JSON. The library does
// the work (sagegen/compare/); this file is flags, files and progress.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "compare_figure.h"
#include "compare_options.h"
#include "compare_report.h"
#include "generation_job.h"
#include "output_paths.h"
#include "progress_bar.h"
#include "text_output.h"
#include "sagegen/compare/compare.h"
#include "sagegen/eval/image_quality.h"
#include "sagegen/io/image.h"
#include "sagegen/io/json.h"
#include "sagegen/io/text_file.h"
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
  for (const fs::path& path : {files.grid, files.csv, files.json}) refuse_existing(path, "--out", options.overwrite);
  return files;
}

// The entries the flags name: --variants in order, then --tables in order.
std::vector<compare::EntrySpec> entries_of(const CompareOptions& options) {
  std::vector<compare::EntrySpec> entries;
  for (const auto variant : options.variants) entries.push_back(compare::EntrySpec::of_variant(variant));
  for (const std::string& path : options.tables) entries.push_back(compare::EntrySpec::of_table(path));
  return entries;
}

// The library names an entry by its index; users typed it in --variants or --tables.
UsageError usage_error_of(const compare::EntryError& e, const std::vector<compare::EntrySpec>& entries) {
  const bool variant = entries.at(e.index()).kind == compare::EntrySpec::Kind::kVariant;
  return UsageError((variant ? "--variants: " : "--tables: ") + e.detail());
}

// One bar per entry ("compare sage2-8b"), over its denoising steps; the one still open when the
// comparison ends, or fails, is closed so what follows starts on a fresh line.
class EntryBars {
 public:
  EntryBars() = default;
  ~EntryBars() { finish(); }
  EntryBars(const EntryBars&) = delete;
  EntryBars& operator=(const EntryBars&) = delete;

  compare::CompareProgress progress() {
    compare::CompareProgress p;
    p.entry_started = [this](const compare::EntryStart& start) {
      finish();
      bar_ = std::make_unique<ProgressBar>("compare " + start.label, start.steps,
                                           progress_style_for(stderr));
    };
    p.step = [this](const StepProgress& step) {
      if (!bar_) return;
      bar_->update(step.step, step.seconds_elapsed);
      // The pipeline logs right after its last step: the bar's line must be closed first.
      if (step.step == step.total) finish();
    };
    return p;
  }
  void finish() {
    if (bar_) bar_->finish();
    bar_.reset();
  }

 private:
  std::unique_ptr<ProgressBar> bar_;  // the running entry's
};

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

  std::vector<compare::EntrySpec> entries = entries_of(options);
  // Each table is checked against the model and step count before the model loads, so a table
  // for another model fails at once with one line.
  try {
    compare::check_table_entries(entries, model_config_of(options.settings.load.model), request.steps);
  } catch (const compare::EntryError& e) {
    throw usage_error_of(e, entries);
  }
  // One model for the reference, every variant and every table (a table is per generation).
  auto pipeline = Pipeline::load(options.settings.load);
  check_size_against_patch(*pipeline, request, "--size");
  if (entries.empty()) {
    for (const auto variant : compare::runnable_default_variants(*pipeline)) {
      entries.push_back(compare::EntrySpec::of_variant(variant));
    }
    if (entries.empty()) {
      throw UsageError("--variants: none of the default variants runs on " + pipeline->device_name());
    }
  }

  compare::CompareRun run;
  {
    EntryBars bars;
    try {
      run = compare::run_comparison(*pipeline, {request, entries}, bars.progress());
    } catch (const compare::EntryError& e) {
      throw usage_error_of(e, entries);
    }
  }

  fs::create_directories(files.grid.parent_path().empty() ? fs::path(".") : files.grid.parent_path());
  io::write_png(files.grid, draw_compare_grid(run));
  io::write_text_file(files.csv, compare_csv(run));
  io::write_json(files.json, compare_json(run));
  std::printf("%s", compare_table(run).c_str());
  std::printf("%s\n%s\n%s\n", files.grid.string().c_str(), files.csv.string().c_str(), files.json.string().c_str());
  return 0;
}

}  // namespace sagegen::cli
