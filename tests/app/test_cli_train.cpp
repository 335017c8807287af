// `sagegen train --benchmark` and `--cuda-graphs`: their flags are checked like the others
// (exit 2, one line naming the flag), and a short CPU benchmark prints where a step's time goes,
// in which mode, and saves nothing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_process.h"

namespace sagegen::cli {
namespace {

using testing::ProcessResult;
using testing::run_sagegen;

void expect_usage_error(const std::vector<std::string>& args, const std::string& prefix) {
  const ProcessResult r = run_sagegen(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("sagegen: error: " + prefix, 0), 0u) << r.err;
}

TEST(CliTrainBenchmark, BadFlagsNameTheFlag) {
  const std::vector<std::string> base{"train", "--config", "configs/train/tiny-t2i.yaml"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  expect_usage_error(with({"--benchmark", "0"}),
                     "--benchmark: expected a step count in [1, 100000], got '0'");
  expect_usage_error(with({"--benchmark", "ten"}),
                     "--benchmark: expected a step count in [1, 100000], got 'ten'");
  expect_usage_error(with({"--profile", "3"}), "--profile: only with --benchmark N");
  expect_usage_error(with({"--cuda-graphs", "maybe"}),
                     "--cuda-graphs: expected on or off, got 'maybe'");
}

TEST(CliTrainBenchmark, PrintsTheSplitOfAStepAndSavesNothing) {
  const testing::TempDir dir("train-benchmark");
  const ProcessResult r =
      run_sagegen({"train", "--config", "configs/train/tiny-t2i.yaml", "--device", "cpu",
                   "--batch", "2", "--benchmark", "2", "--out", (dir.path() / "run").string(),
                   "--log-level", "warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The CPU always runs the step eagerly (cuda_graphs is on by default, for CUDA).
  EXPECT_NE(r.out.find("benchmark (cpu, eager, 2 samples a step, 2 steps a pass)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("waiting for data"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backward"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run")) << "a benchmark writes no run directory";
}

}  // namespace
}  // namespace sagegen::cli
