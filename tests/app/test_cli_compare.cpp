// `sagegen compare` through the built binary on the CPU with the tiny random-weight model:
// the files it writes, their figures agreeing with each other, and bad inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "sagegen/io/image.h"

namespace sagegen::cli {
namespace {

using testing::kTinyModel;
using testing::ProcessResult;
using testing::read_bytes;
using testing::run_sagegen;
using testing::TempDir;
using testing::write_bytes;
namespace fs = std::filesystem;

const std::string kPrompt = "a red circle above a blue square";

// A table for the tiny model (2 blocks: layer ids 0..3): step 0 in fp16, the rest 8-bit.
const std::string kTinyTable = R"(model: cli-test-tiny
default: sage2-8b
rules:
  - {layers: all, steps: 0, variant: fp16}
)";

std::vector<std::string> compare_args(const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"compare", "-p",     kPrompt, "--model", kTinyModel, "--steps", "2",
                                   "--size",  "32x32",  "--seed", "3",     "--device", "cpu",
                                   "--out",   out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(read_bytes(path));
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

int column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << name;
  return static_cast<int>(it - header.begin());
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& prefix) {
  const ProcessResult r = run_sagegen(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("sagegen: error: " + prefix, 0), 0u) << r.err;
}

TEST(CliCompare, ImageGridCsvAndJsonAgree) {
  TempDir dir;
  const fs::path table = dir.path() / "tiny-step0-fp16.yaml";
  write_bytes(table, kTinyTable);
  const fs::path out = dir.path() / "cmp";
  const ProcessResult r =
      run_sagegen(compare_args(out, {"--variants", "sage2-8b,sage2-4b,sage1", "--tables", table.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(out / "grid.png"));
  ASSERT_TRUE(fs::exists(out / "compare.csv"));
  ASSERT_TRUE(fs::exists(out / "compare.json"));
  EXPECT_NE(r.out.find((out / "grid.png").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fp16 (reference)"), std::string::npos) << r.out;

  // Five columns of 32x32 images enlarged to 128x128, plus labels.
  const at::Tensor grid = io::read_png(out / "grid.png");
  EXPECT_GE(grid.size(1), 5 * 128);
  EXPECT_GE(grid.size(0), 128 + 5 * 16);

  const auto rows = read_csv(out / "compare.csv");
  ASSERT_EQ(rows.size(), 6u);  // header + fp16 + 3 variants + 1 table
  const auto& header = rows[0];
  const int entry = column(header, "entry"), kind = column(header, "kind"), source = column(header, "source");
  const int psnr = column(header, "psnr_db"), ssim = column(header, "ssim");
  const int asked = column(header, "adherence_asked"), seconds = column(header, "seconds_total");
  for (std::size_t i = 1; i < rows.size(); ++i) ASSERT_EQ(rows[i].size(), header.size()) << i;

  EXPECT_EQ(rows[1][entry], "fp16 (reference)");
  EXPECT_EQ(rows[1][kind], "reference");
  EXPECT_EQ(rows[1][psnr], "inf");
  EXPECT_DOUBLE_EQ(std::stod(rows[1][ssim]), 1.0);
  const std::vector<std::string> expected = {"sage2-8b", "sage2-4b", "sage1", "tiny-step0-fp16.yaml"};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& row = rows[i + 2];
    EXPECT_EQ(row[entry], expected[i]);
    EXPECT_EQ(row[kind], i < 3 ? "variant" : "table");
    // Quantized attention moves some pixels: finite PSNR, SSIM under 1.
    const double p = std::stod(row[psnr]);
    EXPECT_TRUE(std::isfinite(p)) << row[entry] << " " << row[psnr];
    EXPECT_GT(p, 0.0);
    const double s = std::stod(row[ssim]);
    EXPECT_LT(s, 1.0) << row[entry];
    EXPECT_GT(s, -1.0);
    EXPECT_GT(std::stod(row[seconds]), 0.0);
    EXPECT_GE(std::stoi(row[asked]), 1) << "the prompt asks for colours, shapes and a relation";
  }
  EXPECT_EQ(rows[5][source], table.string());

  const auto json = nlohmann::json::parse(read_bytes(out / "compare.json"));
  EXPECT_EQ(json["prompt"], kPrompt);
  EXPECT_EQ(json["seed"], 3);
  EXPECT_EQ(json["model"], "cli-test-tiny");
  EXPECT_EQ(json["random_weights"], true);
  ASSERT_EQ(json["entries"].size(), 5u);
  EXPECT_EQ(json["entries"][0]["psnr_db"], "inf");
  for (std::size_t i = 1; i < 5; ++i) {
    const auto& e = json["entries"][i];
    EXPECT_EQ(e["entry"], rows[i + 1][entry]);
    EXPECT_NEAR(e["psnr_db"].get<double>(), std::stod(rows[i + 1][psnr]), 1e-5);
    EXPECT_NEAR(e["ssim"].get<double>(), std::stod(rows[i + 1][ssim]), 1e-5);
    ASSERT_EQ(e["psnr_db_per_frame"].size(), 1u);
    EXPECT_NEAR(e["psnr_db_per_frame"][0].get<double>(), e["psnr_db"].get<double>(), 1e-9);
    EXPECT_EQ(e["adherence"]["asked"].get<int>(), std::stoi(rows[i + 1][asked]));
  }
  // The variant rows ran only that variant in the DiT (the text encoder always runs fp16).
  EXPECT_GT(json["entries"][1]["attention_calls"]["sage2-8b"].get<int>(), 0);
  EXPECT_FALSE(json["entries"][1]["attention_calls"].contains("sage2-4b"));
}

TEST(CliCompare, VideoRowsHavePerFrameFigures) {
  TempDir dir;
  const fs::path out = dir.path() / "video";
  const ProcessResult r = run_sagegen(compare_args(out, {"--frames", "3", "--variants", "sage2-4b,fp16"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(read_bytes(out / "compare.json"));
  ASSERT_EQ(json["entries"].size(), 3u);
  EXPECT_EQ(json["frames"], 3);
  for (const auto& e : json["entries"]) {
    EXPECT_EQ(e["psnr_db_per_frame"].size(), 3u);
    EXPECT_EQ(e["ssim_per_frame"].size(), 3u);
  }
  EXPECT_TRUE(json["entries"][1]["psnr_db"].is_number());
  // fp16 again from the same seed on the CPU is bitwise the same: the run-to-run floor is inf.
  EXPECT_EQ(json["entries"][2]["entry"], "fp16");
  EXPECT_EQ(json["entries"][2]["psnr_db"], "inf");
  // Three rows, each a strip of three 128-pixel frames.
  const at::Tensor grid = io::read_png(out / "grid.png");
  EXPECT_GE(grid.size(0), 3 * 128);
  EXPECT_GE(grid.size(1), 3 * 128);
}

TEST(CliCompare, ExistingOutputsNeedOverwrite) {
  TempDir dir;
  const fs::path out = dir.path() / "again";
  fs::create_directories(out);
  write_bytes(out / "compare.csv", "old");
  expect_usage_error(compare_args(out, {"--variants", "sage1"}), "--out: '" + (out / "compare.csv").string() + "' exists");
  const ProcessResult r = run_sagegen(compare_args(out, {"--variants", "sage1", "--overwrite"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_bytes(out / "compare.csv"), "old");
}

TEST(CliCompare, BadInputsNameTheFlagAndExitWith2) {
  TempDir dir;
  const fs::path out = dir.path() / "bad";
  expect_usage_error(compare_args(out, {"--variants", "sage2-8b,sage9"}), "--variants: unknown attention variant 'sage9'");
  expect_usage_error(compare_args(out, {"--tables", "nope.yaml"}), "--tables: table file 'nope.yaml' does not exist");
  expect_usage_error(compare_args(out, {"--attention", "sage1"}), "--attention: compare runs every entry");
  expect_usage_error(compare_args(out, {"--size", "8x8"}), "--size: 8x8 is smaller than the 11x11 SSIM window");
  expect_usage_error({"compare", "--steps", "2"}, "compare: no prompt given");
  expect_usage_error({"compare", "-p", kPrompt, "--bogus", "1"}, "compare: unknown flag '--bogus'");

  // A table written for another model.
  const std::string other = SAGEGEN_SOURCE_DIR "/configs/tables/tiny-8bit.yaml";
  const ProcessResult r = run_sagegen(compare_args(out, {"--tables", other}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("sagegen: error: --tables: " + other + ":", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("not for the model \"cli-test-tiny\""), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // A table whose steps run past the request's.
  const fs::path long_table = dir.path() / "long.yaml";
  write_bytes(long_table, "model: cli-test-tiny\ndefault: sage1\nrules:\n  - {layers: all, steps: 5, variant: fp16}\n");
  const ProcessResult steps = run_sagegen(compare_args(out, {"--tables", long_table.string()}));
  EXPECT_EQ(steps.exit_code, 2) << steps.err;
  EXPECT_EQ(steps.err.rfind("sagegen: error: --tables: " + long_table.string() + ":", 0), 0u) << steps.err;
  EXPECT_FALSE(fs::exists(out / "grid.png"));
}

TEST(CliCompare, HelpListsItsFlags) {
  const ProcessResult r = run_sagegen({"compare", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle : {"--variants", "--tables", "--out", "grid.png", "PSNR", "SSIM"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle;
  }
}

}  // namespace
}  // namespace sagegen::cli
