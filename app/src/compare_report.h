// The figures of a comparison as text: the CSV and JSON files, the table printed on stdout, and
// the short strings the grid writes under each image. One formatter for all, so they agree.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sagegen/compare/result.h"

namespace sagegen::cli {

using compare::AdherenceCount;
using compare::CompareEntry;
using compare::CompareRun;

// "inf" for identical images, else two decimals ("31.42").
std::string format_psnr(double psnr_db);
// Four decimals ("0.9876").
std::string format_ssim(double ssim);
// "3/5", or "n/a" when the prompt could not be scored.
std::string format_adherence(const std::optional<AdherenceCount>& adherence);

// One row per entry; columns: entry,kind,source,psnr_db,ssim,adherence_correct,adherence_asked,
// seconds_total,seconds_per_step,attention_calls. psnr_db is "inf" for identical images;
// adherence cells are empty when not scored; attention_calls is "name:count;name:count".
std::string compare_csv(const CompareRun& run);

// Everything in the CSV plus the run's settings and per-frame PSNR and SSIM. JSON has no
// infinity: an infinite PSNR is written as the string "inf".
nlohmann::json compare_json(const CompareRun& run);

// The table printed on stdout.
std::string compare_table(const CompareRun& run);

}  // namespace sagegen::cli
