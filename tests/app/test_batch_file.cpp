// Batch files: defaults and per-job overrides, and every mistake reported as FILE:LINE.
#include <gtest/gtest.h>

#include "batch_file.h"
#include "cli_process.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

using testing::TempDir;
using testing::write_bytes;

class BatchFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& yaml) {
    const auto path = (dir_.path() / "jobs.yaml").string();
    write_bytes(path, yaml);
    return path;
  }
  // The error message with the temp path replaced by "jobs.yaml".
  std::string error_of(const std::string& yaml,
                       const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
    const std::string path = write(yaml);
    try {
      load_batch_file(path, overrides);
    } catch (const UsageError& e) {
      std::string message = e.what();
      const auto at = message.find(path);
      if (at != std::string::npos) message.replace(at, path.size(), "jobs.yaml");
      return message;
    }
    return "";
  }
  TempDir dir_;
};

TEST_F(BatchFileTest, DefaultsJobsAndCommandLineOverrides) {
  const auto batch = load_batch_file(write(R"(
defaults: {steps: 3, cfg-scale: 2.5, size: 32x16}
out_dir: somewhere/else
jobs:
  - {prompt: "a red circle", seed: 1}
  - prompt: a blue square
    seed: 2
    steps: 9
    name: blue
    attention: sage2-8b
)"),
                                     {{"device", "cpu"}});
  EXPECT_EQ(batch.out_dir, "somewhere/else");
  ASSERT_EQ(batch.jobs.size(), 2u);
  const auto& first = batch.jobs[0];
  EXPECT_EQ(first.line, 5);
  EXPECT_EQ(first.stem, "a-red-circle-s1");
  EXPECT_EQ(first.settings.request.steps, 3);
  EXPECT_DOUBLE_EQ(first.settings.request.cfg_scale, 2.5);
  EXPECT_EQ(first.settings.request.width, 32);
  EXPECT_EQ(first.settings.request.height, 16);
  EXPECT_EQ(first.settings.load.device, DeviceChoice::kCpu);
  EXPECT_FALSE(first.settings.request.attention.has_value());
  const auto& second = batch.jobs[1];
  EXPECT_EQ(second.line, 6);
  EXPECT_EQ(second.stem, "blue");
  EXPECT_EQ(second.settings.request.steps, 9);
  EXPECT_EQ(second.settings.request.seed, 2);
  EXPECT_EQ(*second.settings.request.attention, sageattn::Variant::kSage2Int8);
  EXPECT_EQ(second.settings.load.device, DeviceChoice::kCpu);
}

TEST_F(BatchFileTest, CommandLineFlagsWinOverJobs) {
  const auto batch = load_batch_file(write("jobs:\n  - {prompt: x, steps: 9}\n"), {{"steps", "2"}});
  EXPECT_EQ(batch.jobs[0].settings.request.steps, 2);
}

TEST_F(BatchFileTest, ErrorsCarryFileLineAndKey) {
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x}\nout-dir: y\n"),
            "jobs.yaml:3: unknown key 'out-dir' (expected defaults, out_dir, jobs)");
  EXPECT_EQ(error_of("jobs:\n  - prompt: x\n    stepz: 3\n"),
            "jobs.yaml:3: unknown key 'stepz' in a job (generation keys as the flags without --, "
            "e.g. cfg-scale, plus name)");
  EXPECT_EQ(error_of("defaults:\n  cfg_scale: 3\njobs:\n  - {prompt: x}\n"),
            "jobs.yaml:2: unknown key 'cfg_scale' in defaults (generation keys as the flags "
            "without --, e.g. cfg-scale)");
  EXPECT_EQ(error_of("defaults: {name: x}\njobs:\n  - {prompt: x}\n"),
            "jobs.yaml:1: unknown key 'name' in defaults (generation keys as the flags without "
            "--, e.g. cfg-scale)");
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x}\n  - {prompt: y, steps: many}\n"),
            "jobs.yaml:3: key 'steps': 'many' is not an integer");
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x, frames: 0}\n"),
            "jobs.yaml:2: key 'frames': 0 is out of range (must be >= 1)");
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x, size: 64by64}\n"),
            "jobs.yaml:2: key 'size': '64by64' is not a size WIDTHxHEIGHT (e.g. 64x64)");
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x, table: /nonexistent.yaml}\n"),
            "jobs.yaml:2: key 'table': table file '/nonexistent.yaml' does not exist");
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x, seed: [1, 2]}\n"),
            "jobs.yaml:2: key 'seed' must be a single value");
  EXPECT_EQ(error_of("jobs:\n  - {seed: 3}\n"), "jobs.yaml:2: no prompt given (-p/--prompt)");
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x, seed: 1}\n  - {prompt: x, seed: 1, steps: 4}\n"),
            "jobs.yaml:3: output name 'x-s1' is also used by the job at line 2 (give one a "
            "different name: or seed:)");
  EXPECT_EQ(error_of("jobs:\n  - just a string\n"),
            "jobs.yaml:2: a job must be a map of key: value");
  EXPECT_EQ(error_of("defaults: {steps: 2}\n"), "jobs.yaml: 'jobs' must be a non-empty list");
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x}\n"
                     "  - {prompt: y\n"),
            error_of("jobs:\n  - {prompt: x}\n  - {prompt: y\n"));  // stable, and:
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x}\n  - {prompt: y\n").rfind("jobs.yaml:", 0), 0u);
  EXPECT_EQ(error_of("jobs:\n  - {prompt: x}\n", {{"steps", "zero"}}),
            "--steps: 'zero' is not an integer");
}

}  // namespace
}  // namespace sagegen::cli
