#include "compare_report.h"

#include "text_output.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sagegen::cli {
namespace {

std::string calls_text(const std::map<std::string, std::int64_t>& calls) {
  std::string text;
  for (const auto& [name, count] : calls) {
    text += (text.empty() ? "" : ";") + name + ":" + std::to_string(count);
  }
  return text;
}

nlohmann::json psnr_json(double psnr_db) {
  if (std::isinf(psnr_db)) return "inf";
  return psnr_db;
}

}  // namespace

std::string format_psnr(double psnr_db) {
  if (std::isinf(psnr_db) && psnr_db > 0) return "inf";
  return fmt::format("{:.2f}", psnr_db);
}

std::string format_ssim(double ssim) { return fmt::format("{:.4f}", ssim); }

std::string format_adherence(const std::optional<AdherenceCount>& adherence) {
  if (!adherence) return "n/a";
  return fmt::format("{}/{}", adherence->correct, adherence->asked);
}

std::string compare_csv(const CompareRun& run) {
  std::string csv =
      "entry,kind,source,psnr_db,ssim,adherence_correct,adherence_asked,seconds_total,"
      "seconds_per_step,attention_calls\n";
  for (const CompareEntry& e : run.entries) {
    const std::string correct = e.adherence ? std::to_string(e.adherence->correct) : "";
    const std::string asked = e.adherence ? std::to_string(e.adherence->asked) : "";
    csv += fmt::format("{},{},{},{},{:.6f},{},{},{:.6f},{:.6f},{}\n", csv_field(e.label),
                       to_string(e.kind), csv_field(e.source),
                       std::isinf(e.quality.psnr_db) ? "inf" : fmt::format("{:.6f}", e.quality.psnr_db),
                       e.quality.ssim, correct, asked, e.seconds_total, e.seconds_per_step,
                       csv_field(calls_text(e.attention_calls)));
  }
  return csv;
}

nlohmann::json compare_json(const CompareRun& run) {
  nlohmann::json entries = nlohmann::json::array();
  for (const CompareEntry& e : run.entries) {
    nlohmann::json psnr_frames = nlohmann::json::array();
    for (double p : e.quality.psnr_db_per_frame) psnr_frames.push_back(psnr_json(p));
    nlohmann::json adherence = nullptr;
    if (e.adherence) {
      nlohmann::json attributes = nlohmann::json::object();
      for (const auto& [name, correct] : e.adherence->attributes) attributes[name] = correct;
      adherence = {{"correct", e.adherence->correct},
                   {"asked", e.adherence->asked},
                   {"attributes", attributes}};
    }
    entries.push_back({{"entry", e.label},
                       {"kind", to_string(e.kind)},
                       {"source", e.source},
                       {"psnr_db", psnr_json(e.quality.psnr_db)},
                       {"ssim", e.quality.ssim},
                       {"psnr_db_per_frame", psnr_frames},
                       {"ssim_per_frame", e.quality.ssim_per_frame},
                       {"adherence", adherence},
                       {"seconds_total", e.seconds_total},
                       {"seconds_per_step", e.seconds_per_step},
                       {"attention_calls", e.attention_calls}});
  }
  return {{"prompt", run.prompt},
          {"seed", run.seed},
          {"steps", run.sampling.steps},
          {"cfg_scale", run.sampling.cfg_scale},
          {"width", run.sampling.width},
          {"height", run.sampling.height},
          {"frames", run.sampling.frames},
          {"model", run.model_name},
          {"device", run.device},
          {"random_weights", run.random_weights},
          {"reference", "fp16"},
          {"metrics",
           {{"psnr_db", "10 log10(255^2 / MSE), MSE over all pixels, channels and frames; \"inf\" = identical"},
            {"ssim", "Wang et al. 2004, 11x11 Gaussian sigma 1.5, K1 0.01, K2 0.03, L 255, per RGB "
                     "channel on valid windows, mean over channels and frames"},
            {"adherence", "attributes of the prompt the evaluator found in the output / attributes asked"}}},
          {"entries", entries}};
}

std::string compare_table(const CompareRun& run) {
  std::size_t label_width = 5;
  for (const CompareEntry& e : run.entries) label_width = std::max(label_width, e.label.size());
  std::string table = fmt::format("{:<{}}  {:>8}  {:>6}  {:>9}  {:>9}  {:>8}\n", "entry", label_width,
                                  "PSNR dB", "SSIM", "adherence", "seconds", "s/step");
  for (const CompareEntry& e : run.entries) {
    table += fmt::format("{:<{}}  {:>8}  {:>6}  {:>9}  {:>9.3f}  {:>8.4f}\n", e.label, label_width,
                         format_psnr(e.quality.psnr_db), format_ssim(e.quality.ssim),
                         format_adherence(e.adherence), e.seconds_total, e.seconds_per_step);
  }
  return table;
}

}  // namespace sagegen::cli
