// `sagegen calibrate` through the built binary on the CPU (golden-model variants, a tiny
// random-weight model, 2 steps, 1 prompt, 1 seed): the table, CSV and heat-map it writes, and its
// flag errors (exit 2, one line naming the flag). Also the table errors of issue 6 through
// `sagegen generate --table`: another model, layers or steps outside, an unknown variant.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "calibrate_args.h"
#include "cli_process.h"
#include "sageattn/table.h"
#include "sagegen/io/image.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

using testing::kTinyModel;
using testing::ProcessResult;
using testing::read_bytes;
using testing::run_sagegen;
using testing::TempDir;
using testing::write_bytes;
namespace fs = std::filesystem;

std::vector<std::string> calibrate_args(const fs::path& dir, std::vector<std::string> extra = {}) {
  write_bytes(dir / "prompts.txt", "# calibration prompts\na red circle above a blue square\n");
  std::vector<std::string> args = {"calibrate", "--model", kTinyModel, "--steps", "2",
                                   "--size", "32x32", "--device", "cpu", "--seeds", "1",
                                   "--prompts", (dir / "prompts.txt").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Caught before the model loads: stderr is exactly one line.
void expect_one_line_error(const ProcessResult& r, const std::string& prefix) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("sagegen: error: " + prefix, 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// Caught once the model is loaded: the model's log lines come first, the error is the last line
// and the only error line.
void expect_error_last_line(const ProcessResult& r, const std::string& prefix) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto last = r.err.rfind('\n', r.err.size() - 2);
  const std::string line = r.err.substr(last == std::string::npos ? 0 : last + 1);
  EXPECT_EQ(line.rfind("sagegen: error: " + prefix, 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("sagegen: error: "), r.err.size() - line.size()) << r.err;
  EXPECT_EQ(r.err.back(), '\n');
}

TEST(CliCalibrate, PaperModeWritesTableCsvAndHeatmap) {
  TempDir dir("cli-calibrate");
  const fs::path table = dir.path() / "table.yaml", csv = dir.path() / "m.csv",
                 png = dir.path() / "heat.png";
  const ProcessResult r = run_sagegen(calibrate_args(
      dir.path(), {"--out", table.string(), "--csv", csv.string(), "--heatmap", png.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, table.string() + "\n" + csv.string() + "\n" + png.string() + "\n");

  const auto loaded = sageattn::PrecisionTable::load_file(table.string());
  EXPECT_EQ(loaded.model(), "cli-test-tiny");
  const auto resolved = loaded.resolve("cli-test-tiny", 4, 2);
  // 8 pairs, round(0.3 * 8) = 2 to 8-bit.
  EXPECT_EQ(resolved.count(sageattn::Variant::kSage2Int8), 2);
  EXPECT_EQ(resolved.count(sageattn::Variant::kSage2Int4), 6);
  const std::string text = read_bytes(table);
  for (const char* needle : {"# Written by `sagegen calibrate` on ", "mode paper, ratio 0.3",
                             "1 prompts x 1 seeds (0), 2 steps, 32x32", "comment: "}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
  }

  const std::string rows = read_bytes(csv);
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 1 + 4 * 2 * 3) << rows;

  const at::Tensor image = io::read_png(png);
  EXPECT_GT(image.size(0), 4 * 14);
  EXPECT_GT(image.size(1), 2 * 14);
  EXPECT_GT(image.to(at::kFloat).std().item<double>(), 10.0);  // not a blank page

  // Outputs are not replaced without --overwrite.
  const ProcessResult again = run_sagegen(calibrate_args(dir.path(), {"--out", table.string()}));
  expect_one_line_error(again, "--out: '" + table.string() + "' exists");
}

TEST(CliCalibrate, LadderForSm90OnTheCpu) {
  TempDir dir("cli-calibrate");
  const fs::path table = dir.path() / "ladder.yaml";
  const ProcessResult r = run_sagegen(calibrate_args(
      dir.path(), {"--mode", "ladder", "--arch", "sm90", "--floor", "0.5", "-o", table.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto resolved =
      sageattn::PrecisionTable::load_file(table.string()).resolve("cli-test-tiny", 4, 2);
  EXPECT_EQ(resolved.count(sageattn::Variant::kSage2Int4), 0);
  EXPECT_NE(read_bytes(table).find("mode ladder, floor 0.5, arch sm90"), std::string::npos);

  // On the CPU the target arch must be named.
  const ProcessResult no_arch = run_sagegen(
      calibrate_args(dir.path(), {"--mode", "ladder", "-o", (dir.path() / "x.yaml").string()}));
  expect_one_line_error(no_arch, "--arch: calibrating on the CPU");
  const ProcessResult no_costs = run_sagegen(calibrate_args(
      dir.path(), {"--mode", "ladder", "--arch", "sm42", "-o", (dir.path() / "y.yaml").string()}));
  expect_one_line_error(no_costs, "--arch sm42: no costs file 'sm42.yaml'");
}

TEST(CliCalibrate, BadFlagsNameTheFlag) {
  TempDir dir("cli-calibrate");
  const auto run = [&](std::vector<std::string> extra) {
    return run_sagegen(calibrate_args(dir.path(), std::move(extra)));
  };
  expect_one_line_error(run({"--ratio", "0"}), "--ratio: 0 is outside (0, 1]");
  expect_one_line_error(run({"--ratio", "1.5"}), "--ratio: 1.5 is outside (0, 1]");
  expect_one_line_error(run({"--ratio", "lots"}), "--ratio: 'lots' is not a number");
  expect_one_line_error(run({"--mode", "ladder", "--floor", "-0.1"}), "--floor: -0.1 is outside [0, 1]");
  expect_one_line_error(run({"--mode", "ladder", "--floor", "2"}), "--floor: 2 is outside [0, 1]");
  expect_one_line_error(run({"--floor", "0.9"}), "--floor: applies to --mode ladder only");
  expect_one_line_error(run({"--mode", "ladder", "--ratio", "0.5"}), "--ratio: applies to --mode paper only");
  expect_one_line_error(run({"--mode", "fast"}), "--mode: unknown mode 'fast' (paper or ladder)");
  expect_one_line_error(run({"--mode", "ladder", "--arch", "hopper"}), "--arch: unknown arch 'hopper'");
  expect_one_line_error(run({"--seeds", "0"}), "--seeds: 0 is out of range");
  expect_one_line_error(run({"--bogus", "1"}), "calibrate: unknown flag '--bogus'");
  expect_one_line_error(run({"--attention", "fp16"}), "calibrate: unknown flag '--attention'");
  write_bytes(dir.path() / "empty.txt", "\n# only a comment\n\n");
  expect_one_line_error(run({"--prompts", (dir.path() / "empty.txt").string()}),
                        "--prompts: '" + (dir.path() / "empty.txt").string() + "' holds no prompts");
  expect_one_line_error(run({"--prompts", (dir.path() / "absent.txt").string()}),
                        "--prompts: cannot read");

  const ProcessResult help = run_sagegen({"calibrate", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--mode paper|ladder"), std::string::npos);
}

TEST(CalibrateArgs, SeedsAndPromptFiles) {
  EXPECT_EQ(parse_seeds("3", "--seeds"), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(parse_seeds("5,9, -2", "--seeds"), (std::vector<std::int64_t>{5, 9, -2}));
  EXPECT_EQ(parse_seeds("7,", "--seeds"), (std::vector<std::int64_t>{7}));
  EXPECT_THROW(parse_seeds(",", "--seeds"), UsageError);
  EXPECT_THROW(parse_seeds("1,x", "--seeds"), UsageError);

  TempDir dir("calibrate-args");
  write_bytes(dir.path() / "list.yaml", "- a red circle\n- \"a blue square, large\"\n");
  EXPECT_EQ(read_calibration_prompts((dir.path() / "list.yaml").string()),
            (std::vector<std::string>{"a red circle", "a blue square, large"}));
  write_bytes(dir.path() / "bad.yaml", "- a red circle\n- [nested]\n");
  try {
    read_calibration_prompts((dir.path() / "bad.yaml").string());
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "--prompts: " + (dir.path() / "bad.yaml").string() +
                                         ":2: expected a prompt (a non-empty string)");
  }
  const CalibrateArgs args = parse_calibrate_args({"--mode=ladder", "--floor", "0.9", "--arch", "sm_89",
                                                   "--steps", "4", "--cfg", "2"});
  EXPECT_EQ(args.mode, calibrate::Mode::kLadder);
  EXPECT_EQ(args.floor, 0.9);
  EXPECT_EQ(args.arch, "sm89");
  EXPECT_EQ(args.settings.request.steps, 4);
  EXPECT_EQ(args.settings.request.cfg_scale, 2.0);
}

// Issue 6, point 6: tables that do not fit the model fail through `generate --table` with one
// line naming the file, line and key.
TEST(CliTableErrors, GenerateWithATableThatDoesNotFit) {
  TempDir dir("cli-table");
  const auto generate_with = [&](const std::string& yaml) {
    const fs::path table = dir.path() / "t.yaml";
    write_bytes(table, yaml);
    return run_sagegen({"-p", "a red circle", "--model", kTinyModel, "--steps", "2", "--size",
                        "32x32", "--device", "cpu", "--table", table.string(), "-o",
                        (dir.path() / "x.png").string()});
  };
  const std::string path = (dir.path() / "t.yaml").string();
  expect_error_last_line(generate_with("model: sagegen-tiny\ndefault: sage2-8b\n"),
                        path + ":1:8: model: the table is for \"sagegen-tiny\", not for the model "
                               "\"cli-test-tiny\"");
  expect_error_last_line(
      generate_with("model: cli-test-tiny\ndefault: fp16\nrules:\n  - {layers: [1, 4], steps: all, variant: sage1}\n"),
      path + ":4:18: rules[0].layers[1]: layer \"4\" is outside the model (the model has 4 layers: 0-3)");
  expect_error_last_line(
      generate_with("model: cli-test-tiny\ndefault: fp16\nrules:\n  - {layers: all, steps: \"2-\", variant: sage1}\n"),
      path + ":4:26: rules[0].steps: step \"2-\" is outside the run (the run has 2 steps: 0-1)");
  expect_error_last_line(generate_with("model: cli-test-tiny\ndefault: sage3\n"),
                        path + ":2:10: default: unknown variant \"sage3\"");
  EXPECT_FALSE(fs::exists(dir.path() / "x.png"));
}

}  // namespace
}  // namespace sagegen::cli
