// Output naming, the batch summary table and the progress bar's text.
#include <gtest/gtest.h>

#include <cstdio>

#include "cli_process.h"
#include "output_paths.h"
#include "progress_bar.h"
#include "summary_table.h"

namespace sagegen::cli {
namespace {

TEST(OutputPaths, DefaultStemFromPromptAndSeed) {
  EXPECT_EQ(default_stem("A red circle, above a BLUE square!", 7), "a-red-circle-above-a-blue-square-s7");
  EXPECT_EQ(default_stem("...", 3), "output-s3");
  EXPECT_LE(default_stem(std::string(200, 'a'), 1).size(), 48u + 3u);
}

TEST(OutputPaths, FileDirectoryOrDefault) {
  auto p = resolve_output_paths("", "stem", /*is_video=*/false);
  EXPECT_EQ(p.media, std::filesystem::path("outputs/stem.png"));
  EXPECT_EQ(p.sidecar, std::filesystem::path("outputs/stem.json"));
  EXPECT_TRUE(p.strip.empty());

  p = resolve_output_paths("out/", "stem", /*is_video=*/true);
  EXPECT_EQ(p.media, std::filesystem::path("out/stem.mp4"));
  EXPECT_EQ(p.strip, std::filesystem::path("out/stem_strip.png"));

  p = resolve_output_paths("dir/pic.png", "ignored", /*is_video=*/false);
  EXPECT_EQ(p.media, std::filesystem::path("dir/pic.png"));
  EXPECT_EQ(p.sidecar, std::filesystem::path("dir/pic.json"));

  p = resolve_output_paths("clip.avi", "ignored", /*is_video=*/true);
  EXPECT_EQ(p.media, std::filesystem::path("clip.avi"));
  EXPECT_EQ(p.strip, std::filesystem::path("clip_strip.png"));

  testing::TempDir dir;  // an existing directory without a trailing slash
  p = resolve_output_paths(dir.path().string(), "stem", /*is_video=*/false);
  EXPECT_EQ(p.media, dir.path() / "stem.png");
}

TEST(ProgressBar, RenderShowsStepsRateAndEta) {
  EXPECT_EQ(ProgressBar::render("", 5, 10, 2.0, 10), "[#####     ] 5/10 2.50 it/s ETA 00:02");
  EXPECT_EQ(ProgressBar::render("job 1/2", 1, 4, 4.0, 4), "job 1/2 [#   ] 1/4 4.00 s/it ETA 00:12");
  EXPECT_EQ(ProgressBar::render("", 0, 3, 0.0, 3), "[   ] 0/3 0.00 it/s ETA --:--");
}

TEST(ProgressBar, LinesModeIsSparse) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ProgressBar bar("", 100, ProgressStyle::kLines, file);
  for (int step = 1; step <= 100; ++step) bar.update(step, step * 0.1);
  bar.finish();
  std::rewind(file);
  int lines = 0;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) lines += c == '\n';
  std::fclose(file);
  // The first step (an early rate), then one line per tenth of the work, the last one at 100/100.
  EXPECT_EQ(lines, 11);
}

TEST(ProgressBar, RedrawModeRewritesOneLine) {
  std::FILE* file = std::tmpfile();
  ProgressBar bar("", 3, ProgressStyle::kRedraw, file);
  for (int step = 1; step <= 3; ++step) bar.update(step, step);
  bar.finish();
  std::rewind(file);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) text += static_cast<char>(c);
  std::fclose(file);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_NE(text.find("3/3"), std::string::npos);
}

TEST(SummaryTable, ListsEveryJobAndCounts) {
  const std::string table = format_summary_table({{"a", JobStatus::kDone, 1.5, "out/a.png"},
                                                  {"long-name", JobStatus::kSkipped, 0, "out/b.png"},
                                                  {"c", JobStatus::kFailed, 0.25, "boom"}});
  EXPECT_EQ(table,
            "job        status    seconds  output\n"
            "a          done         1.50  out/a.png\n"
            "long-name  skipped      0.00  out/b.png\n"
            "c          FAILED       0.25  boom\n"
            "1 done, 1 skipped, 1 failed\n");
}

}  // namespace
}  // namespace sagegen::cli
