// The compare figures in-process: CSV quoting and infinities, JSON without infinities, and the
// grid's layout for images and for long clips (which must stay under the canvas limit).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <limits>

#include <nlohmann/json.hpp>

#include "compare_figure.h"
#include "compare_report.h"

namespace sagegen::cli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

CompareEntry entry(CompareEntry::Kind kind, const std::string& label, const at::Tensor& video, double psnr) {
  CompareEntry e;
  e.kind = kind;
  e.label = label;
  e.source = label;
  e.video = video;
  e.quality.psnr_db = psnr;
  e.quality.ssim = std::isinf(psnr) ? 1.0 : 0.5;
  for (std::int64_t f = 0; f < video.size(0); ++f) {
    e.quality.psnr_db_per_frame.push_back(psnr);
    e.quality.ssim_per_frame.push_back(e.quality.ssim);
  }
  e.seconds_total = 1.5;
  e.seconds_per_step = 0.75;
  return e;
}

CompareRun two_entry_run(std::int64_t frames, std::int64_t height, std::int64_t width) {
  CompareRun run;
  run.prompt = "a red circle";
  run.seed = 1;
  run.sampling.steps = 2;
  run.sampling.cfg_scale = 4;
  run.sampling.width = static_cast<int>(width);
  run.sampling.height = static_cast<int>(height);
  run.sampling.frames = static_cast<int>(frames);
  run.model_name = "m";
  run.device = "cpu";
  const auto opts = at::TensorOptions().dtype(at::kByte);
  run.entries.push_back(entry(CompareEntry::Kind::kReference, "fp16 (reference)",
                              at::full({frames, height, width, 3}, 200, opts), kInf));
  run.entries.push_back(entry(CompareEntry::Kind::kVariant, "sage2-4b", at::full({frames, height, width, 3}, 77, opts), 31.5));
  return run;
}

// Pixels exactly of value v in every channel.
std::int64_t pixels_of(const at::Tensor& image, int v) { return image.eq(v).all(2).sum().item<std::int64_t>(); }

TEST(CompareReport, CsvWritesInfAndQuotesFields) {
  CompareRun run = two_entry_run(1, 16, 16);
  run.entries[1].label = "odd, \"name\"";
  run.entries[1].adherence = AdherenceCount{2, 3, {{"colour", true}, {"shape", true}, {"relation", false}}};
  const std::string csv = compare_csv(run);
  EXPECT_NE(csv.find("fp16 (reference),reference,fp16 (reference),inf,1.000000,,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"odd, \"\"name\"\"\",variant,sage2-4b,31.500000,0.500000,2,3,"), std::string::npos) << csv;
}

TEST(CompareReport, JsonHasNoInfinities) {
  CompareRun run = two_entry_run(2, 16, 16);
  const nlohmann::json json = compare_json(run);
  EXPECT_EQ(json["entries"][0]["psnr_db"], "inf");
  EXPECT_EQ(json["entries"][0]["psnr_db_per_frame"][1], "inf");
  EXPECT_DOUBLE_EQ(json["entries"][1]["psnr_db"].get<double>(), 31.5);
  EXPECT_TRUE(json["entries"][1]["adherence"].is_null());
  // Round trip through text: nlohmann would write a bare infinity as null.
  EXPECT_EQ(nlohmann::json::parse(json.dump())["entries"][0]["psnr_db"], "inf");
}

TEST(CompareReport, FormatsForHumans) {
  EXPECT_EQ(format_psnr(kInf), "inf");
  EXPECT_EQ(format_psnr(31.456), "31.46");
  EXPECT_EQ(format_ssim(0.98765), "0.9877");
  EXPECT_EQ(format_adherence(std::nullopt), "n/a");
  EXPECT_EQ(format_adherence(AdherenceCount{1, 4, {}}), "1/4");
  const std::string table = compare_table(two_entry_run(1, 16, 16));
  EXPECT_NE(table.find("sage2-4b"), std::string::npos);
  EXPECT_NE(table.find("31.50"), std::string::npos);
}

TEST(CompareFigure, ImageGridHasOneEnlargedColumnPerEntry) {
  const at::Tensor grid = draw_compare_grid(two_entry_run(1, 16, 16));
  // 16x16 images enlarged 8x to 128x128, each shown whole once.
  EXPECT_EQ(pixels_of(grid, 200), 128 * 128);
  EXPECT_EQ(pixels_of(grid, 77), 128 * 128);
  // Side by side: the reference's column is left of the variant's.
  const at::Tensor ref_cols = grid.eq(200).all(2).any(0).nonzero();
  const at::Tensor var_cols = grid.eq(77).all(2).any(0).nonzero();
  EXPECT_LT(ref_cols.max().item<std::int64_t>(), var_cols.min().item<std::int64_t>());
}

TEST(CompareFigure, VideoGridHasOneRowPerEntryAndEveryFrame) {
  const at::Tensor grid = draw_compare_grid(two_entry_run(4, 16, 16));
  EXPECT_EQ(pixels_of(grid, 200), 4 * 128 * 128);
  EXPECT_EQ(pixels_of(grid, 77), 4 * 128 * 128);
  const at::Tensor ref_rows = grid.eq(200).all(2).any(1).nonzero();
  const at::Tensor var_rows = grid.eq(77).all(2).any(1).nonzero();
  EXPECT_LT(ref_rows.max().item<std::int64_t>(), var_rows.min().item<std::int64_t>());
}

TEST(CompareFigure, LongWideClipsShowEvenlySpacedFramesUnderTheLimit) {
  // 81 frames of 832 pixels would be a 68k-pixel strip.
  const at::Tensor grid = draw_compare_grid(two_entry_run(81, 48, 832));
  EXPECT_LE(grid.size(1), 32768);
  const std::int64_t shown = pixels_of(grid, 77) / (48 * 832);
  EXPECT_GE(shown, 2);
  EXPECT_LT(shown, 81);
}

}  // namespace
}  // namespace sagegen::cli
