// `sagegen batch FILE.yaml`: runs every job, keeps going past failures, skips outputs finished
// with the same settings (so a rerun resumes), and ends with a summary table.
#include <chrono>
#include <fstream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "batch_file.h"
#include "commands.h"
#include "error_message.h"
#include "generation_job.h"
#include "output_lock.h"
#include "sidecar.h"
#include "summary_table.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

// load() fixes model, weights, table and device; jobs sharing them share one Pipeline.
std::string pipeline_key(const LoadOptions& r) {
  return r.model + '\n' + r.weights + '\n' + r.table + '\n' + to_string(r.device);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Empty when the finished output at `paths` records `settings`, else what differs.
std::string finished_output_differs(const OutputPaths& paths, const nlohmann::json& settings) {
  try {
    return settings_difference(nlohmann::json::parse(std::ifstream(paths.sidecar)), settings);
  } catch (const nlohmann::json::exception&) {
    return "the sidecar cannot be read as JSON";
  }
}

}  // namespace

int run_batch(const CommandLine& cl) {
  const BatchFile batch = load_batch_file(cl.batch_file, cl.generation_flags);
  const std::filesystem::path out_dir = cl.out.empty() ? batch.out_dir : cl.out;
  // Checked before any job runs: a directory that cannot be made or written is exit 2.
  check_output_writable(output_paths_in(out_dir, "job", false), cl.out.empty() ? "out_dir" : "--out");
  std::filesystem::create_directories(out_dir);
  // Requests too large for the device are refused before any job runs, naming file:line.
  for (const BatchJob& job : batch.jobs) {
    try {
      check_fits_before_load(job.settings.load, job.settings.request);
    } catch (const RequestError& e) {
      throw UsageError(fmt::format("{}:{}: {}", cl.batch_file, job.line, cli_error_message(e)));
    } catch (const ConfigError& e) {
      throw UsageError(fmt::format("{}:{}: {}", cl.batch_file, job.line, cli_error_message(e)));
    }
  }
  spdlog::info("batch '{}': {} jobs into {}", cl.batch_file, batch.jobs.size(), out_dir.string());

  std::map<std::string, std::unique_ptr<Pipeline>> pipelines;
  std::vector<JobRow> rows;
  const int total = static_cast<int>(batch.jobs.size());
  for (int i = 0; i < total; ++i) {
    const BatchJob& job = batch.jobs[i];
    GenerateRequest request = job.settings.request;
    const std::string where = fmt::format("{}:{}", cl.batch_file, job.line);
    JobRow row{job.stem.empty() ? fmt::format("#{} (line {})", i + 1, job.line) : job.stem,
               JobStatus::kFailed, 0.0, ""};
    const auto start = std::chrono::steady_clock::now();
    try {
      request.seed = resolve_seed(request.seed);
      request.strict_prompt = cl.strict_prompt;
      const std::string stem = job.stem.empty() ? default_stem(request.prompt, request.seed) : job.stem;
      row.job = stem;
      OutputPaths paths = output_paths_in(out_dir, stem, request.frames > 1);
      row.output = paths.media.string();
      const OutputLock lock(paths, where);
      auto& pipeline = pipelines[pipeline_key(job.settings.load)];
      if (!pipeline) {
        pipeline = Pipeline::load(job.settings.load);
      }
      if (output_finished(paths) && !cl.overwrite) {
        const std::string difference =
            finished_output_differs(paths, output_settings(request, *pipeline));
        if (!difference.empty()) {
          throw UsageError(fmt::format("{} exists with other settings ({}); --overwrite "
                                       "regenerates it",
                                       paths.sidecar.string(), difference));
        }
        spdlog::info("job {}/{} '{}': finished earlier with the same settings, skipped "
                     "(--overwrite regenerates)", i + 1, total, stem);
        row.status = JobStatus::kSkipped;
        rows.push_back(row);
        continue;
      }
      check_size_against_patch(*pipeline, request, "size");  // the error log names file:line
      spdlog::info("job {}/{} '{}': {}", i + 1, total, stem, request.prompt);
      generate_to_files(*pipeline, job.settings.load, request, paths,
                        fmt::format("job {}/{}", i + 1, total));
      row.output = paths.media.string();
      row.status = JobStatus::kDone;
    } catch (const std::exception& e) {
      row.status = JobStatus::kFailed;
      row.output = first_line(cli_error_message(e));
      spdlog::error("job {}/{} ({}) failed: {}", i + 1, total, where, row.output);
    }
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rows.push_back(row);
  }

  std::fputs(format_summary_table(rows).c_str(), stdout);
  int failed = 0;
  for (const auto& row : rows) failed += row.status == JobStatus::kFailed;
  if (failed > 0) {
    spdlog::error("{} of {} jobs failed", failed, total);
    return kFailureExitCode;
  }
  return 0;
}

}  // namespace sagegen::cli
