// The built `sagegen` binary as a user runs it: exit codes, one-line errors, files written
// (PNG, video, JSON sidecar), batch resume. CPU only, a tiny random-weight model, 1-2 steps.
#include <gtest/gtest.h>

#include <ATen/Context.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "generation_job.h"
#include "progress_bar.h"
#include "generation_settings.h"
#include "sagegen/io/image.h"

namespace sagegen::cli {
namespace {

using testing::kTinyModel;
using testing::ProcessResult;
using testing::read_bytes;
using testing::run_sagegen;
using testing::TempDir;
namespace fs = std::filesystem;

int line_count(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// A usage error: exit 2 and exactly one line on stderr, starting with `prefix`.
void expect_usage_error(const std::vector<std::string>& args, const std::string& prefix) {
  const ProcessResult r = run_sagegen(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(line_count(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("sagegen: error: " + prefix, 0), 0u) << r.err;
}

std::vector<std::string> tiny_args(const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"-p",      "a red circle above a blue square",
                                   "--model", kTinyModel,
                                   "--steps", "2",
                                   "--size",  "32x32",
                                   "--device", "cpu",
                                   "--attention", "fp16",
                                   "-o",      out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(CliErrors, ArgumentErrorsExitWith2AndOneLine) {
  expect_usage_error({"-p", "x", "--bogus"}, "unknown flag '--bogus'");
  expect_usage_error({"-p", "x", "--steps"}, "--steps: missing value");
  expect_usage_error({"-p", "x", "--cfg-scale", "high"}, "--cfg-scale: 'high' is not a number");
  expect_usage_error({"-p", "x", "--frames", "0"}, "--frames: 0 is out of range (must be >= 1)");
  expect_usage_error({"-p", "x", "--model", "/nonexistent/model.yaml"},
                     "--model: model config file '/nonexistent/model.yaml' does not exist");
  expect_usage_error({"-p", "x", "--table", "missing-table.yaml"},
                     "--table: table file 'missing-table.yaml' does not exist");
  expect_usage_error({"--steps", "3"}, "generate: no prompt given");
  expect_usage_error({"nonsense"}, "unknown command 'nonsense'");
}

TEST(CliErrors, UnknownModelNameExitsWith2) {
  const ProcessResult r = run_sagegen({"-p", "x", "--model", "no-such-model", "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no-such-model"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Exception raised from"), std::string::npos) << r.err;  // no stack trace
}

TEST(CliErrors, SizeNotAMultipleOfThePatch) {
  TempDir dir;
  const ProcessResult r = run_sagegen(tiny_args(dir.path() / "x.png", {"--size", "36x32"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("sagegen: error: --size: 36x32 is not a multiple of the patch 8x8 of "
                       "model 'cli-test-tiny' (e.g. 32x32)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "x.png"));
}

TEST(CliHelp, HelpAndVersion) {
  const ProcessResult help = run_sagegen({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* needle : {"usage:", "--prompt", "--attention", "sage2-8b", "batch FILE.yaml",
                             "bench-pipeline", "examples:", "exit codes"}) {
    EXPECT_NE(help.out.find(needle), std::string::npos) << needle;
  }
  const ProcessResult version = run_sagegen({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("sagegen ", 0), 0u);
}

TEST(CliHelp, HelpMentionsEveryGenerationFlag) {
  const ProcessResult help = run_sagegen({"-h"});
  for (const auto& key : generation_keys()) {
    EXPECT_NE(help.out.find("--" + key), std::string::npos) << key;
  }
}

TEST(CliBench, WithoutAGpuSaysSoAndFails) {
  if (at::hasCUDA()) GTEST_SKIP() << "a GPU is present; bench-pipeline is exercised on the GPU machine";
  const ProcessResult r = run_sagegen({"bench-pipeline"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bench-pipeline needs a CUDA GPU"), std::string::npos) << r.err;
}

// `--prompt ""` is the unconditional sample (the empty caption of training's caption dropout),
// said in the log; leaving the prompt out is still an error (CliErrors above).
TEST(CliGenerate, EmptyPromptIsAnUnconditionalSample) {
  TempDir dir;
  std::vector<std::string> args = tiny_args(dir.path() / "unused.png");
  args[1] = "";
  args.erase(args.end() - 2, args.end());  // no -o: the default name of an empty prompt
  args.insert(args.end(), {"-o", dir.path().string() + "/"});
  const ProcessResult r = run_sagegen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("empty prompt: an unconditional sample"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir.path() / "output-s42.png")) << r.out;
  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "output-s42.json"));
  EXPECT_EQ(sidecar["prompt"], "");
}

TEST(CliGenerate, ImageWithSidecarOnCpu) {
  TempDir dir;
  const fs::path png = dir.path() / "pic.png";
  const ProcessResult r = run_sagegen(tiny_args(png, {"-s", "7", "-n", "blurry", "--cfg", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, png.string() + "\n");

  const at::Tensor image = io::read_png(png);
  EXPECT_EQ(image.sizes(), (at::IntArrayRef{32, 32, 3}));

  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "pic.json"));
  EXPECT_EQ(sidecar["prompt"], "a red circle above a blue square");
  EXPECT_EQ(sidecar["negative_prompt"], "blurry");
  EXPECT_EQ(sidecar["seed"], 7);
  EXPECT_EQ(sidecar["steps"], 2);
  EXPECT_EQ(sidecar["cfg_scale"], 3.0);
  EXPECT_EQ(sidecar["shift"], 1.0);
  EXPECT_EQ(sidecar["width"], 32);
  EXPECT_EQ(sidecar["height"], 32);
  EXPECT_EQ(sidecar["frames"], 1);
  EXPECT_EQ(sidecar["model"], kTinyModel);
  EXPECT_EQ(sidecar["model_name"], "cli-test-tiny");
  EXPECT_EQ(sidecar["model_config"], kTinyModel);
  EXPECT_EQ(sidecar["random_weights"], true);
  EXPECT_EQ(sidecar["attention_override"], "fp16");
  EXPECT_EQ(sidecar["device"], "cpu");
  EXPECT_EQ(sidecar["device_requested"], "cpu");
  EXPECT_TRUE(sidecar.contains("sagegen_version"));
  EXPECT_TRUE(sidecar.contains("weights"));
  EXPECT_TRUE(sidecar.contains("table"));
  ASSERT_TRUE(sidecar["attention_calls"].contains("fp16")) << sidecar.dump();
  EXPECT_GT(sidecar["attention_calls"]["fp16"].get<int>(), 0);
  EXPECT_EQ(sidecar["attention_calls"].size(), 1u) << sidecar.dump();
  EXPECT_EQ(sidecar["timings"]["step_seconds"].size(), 2u);
  EXPECT_GT(sidecar["timings"]["seconds_total"].get<double>(), 0.0);
  // Each stage with its time; no allocator peaks on the CPU (null), and the load apart.
  const auto& stages = sidecar["timings"]["stages"];
  ASSERT_EQ(stages.size(), 3u) << sidecar.dump();
  EXPECT_EQ(stages[0]["name"], "text encoding");
  EXPECT_EQ(stages[1]["name"], "denoising");
  EXPECT_EQ(stages[2]["name"], "decoding");
  EXPECT_GT(stages[1]["seconds"].get<double>(), 0.0);
  EXPECT_TRUE(stages[1]["peak_allocated_bytes"].is_null());
  EXPECT_TRUE(stages[1]["peak_reserved_bytes"].is_null());
  EXPECT_EQ(sidecar["timings"]["load"]["name"], "loading");
  EXPECT_EQ(sidecar["files"]["media"], png.generic_string());
  EXPECT_NE(sidecar["command"].get<std::string>().find("--seed 7 --steps 2"), std::string::npos);
}

TEST(CliGenerate, SameSeedSameBytesAndOverwriteIsExplicit) {
  TempDir dir;
  const fs::path first = dir.path() / "a.png";
  ASSERT_EQ(run_sagegen(tiny_args(first, {"-s", "3"})).exit_code, 0);
  // The output exists: refused without --overwrite, nothing touched.
  const ProcessResult again = run_sagegen(tiny_args(first, {"-s", "3"}));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("exists (pass --overwrite to replace it)"), std::string::npos) << again.err;
  const std::string before = read_bytes(first);
  ASSERT_EQ(run_sagegen(tiny_args(first, {"-s", "3", "--overwrite"})).exit_code, 0);
  EXPECT_EQ(read_bytes(first), before);  // CPU runs are deterministic
}

TEST(CliGenerate, RandomSeedIsPrintedAndSaved) {
  TempDir dir;
  // Printed even when the logs are quiet: the seed is what makes the output reproducible.
  const ProcessResult r = run_sagegen(
      tiny_args(dir.path() / "r.png", {"-s", "-1", "--steps", "1", "--log-level", "error"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto at = r.err.find("seed: ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::int64_t printed = std::stoll(r.err.substr(at + 6));
  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "r.json"));
  EXPECT_EQ(sidecar["seed"].get<std::int64_t>(), printed);
  EXPECT_GE(printed, 0);
}

TEST(CliGenerate, DefaultNameInADirectory) {
  TempDir dir;
  const ProcessResult r = run_sagegen(tiny_args(dir.path() / "", {"-s", "5", "--steps", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.path() / "a-red-circle-above-a-blue-square-s5.png"));
  EXPECT_TRUE(fs::exists(dir.path() / "a-red-circle-above-a-blue-square-s5.json"));
}

TEST(CliGenerate, VideoWritesStripAndSidecar) {
  TempDir dir;
  const ProcessResult r =
      run_sagegen(tiny_args(dir.path() / "clip.mp4", {"--frames", "3", "--fps", "4", "--steps", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const at::Tensor strip = io::read_png(dir.path() / "clip_strip.png");
  EXPECT_EQ(strip.sizes(), (at::IntArrayRef{32, 3 * 32, 3}));
  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "clip.json"));
  EXPECT_EQ(sidecar["frames"], 3);
  EXPECT_EQ(sidecar["fps"], 4.0);
  const fs::path media = sidecar["files"]["media"].get<std::string>();
  EXPECT_TRUE(fs::exists(media)) << media;
  EXPECT_EQ(r.out, media.string() + "\n");
}

std::string write_batch(const fs::path& dir) {
  const fs::path path = dir / "jobs.yaml";
  testing::write_bytes(path, "defaults: {steps: 1, size: 32x32, attention: fp16}\n"
                            "jobs:\n"
                            "  - {prompt: a red circle, seed: 1}\n"
                            "  - {prompt: a green ring, seed: 2, name: ring}\n");
  return path.string();
}

TEST(CliBatch, RerunSkipsFinishedJobsAndOverwriteRegenerates) {
  TempDir dir;
  const std::string jobs = write_batch(dir.path());
  const fs::path out = dir.path() / "out";
  const std::vector<std::string> base = {"batch", jobs, "--model", kTinyModel, "--device", "cpu",
                                         "-o", out.string()};
  const ProcessResult first = run_sagegen(base);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("2 done, 0 skipped, 0 failed"), std::string::npos) << first.out;
  ASSERT_TRUE(fs::exists(out / "a-red-circle-s1.png"));
  ASSERT_TRUE(fs::exists(out / "ring.png"));
  const auto written = fs::last_write_time(out / "ring.json");

  const ProcessResult second = run_sagegen(base);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("0 done, 2 skipped, 0 failed"), std::string::npos) << second.out;
  EXPECT_EQ(fs::last_write_time(out / "ring.json"), written);

  // A missing sidecar marks an unfinished job: only that one runs again.
  fs::remove(out / "ring.json");
  const ProcessResult resumed = run_sagegen(base);
  EXPECT_NE(resumed.out.find("1 done, 1 skipped, 0 failed"), std::string::npos) << resumed.out;

  std::vector<std::string> overwrite = base;
  overwrite.push_back("--overwrite");
  const ProcessResult third = run_sagegen(overwrite);
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.out.find("2 done, 0 skipped, 0 failed"), std::string::npos) << third.out;
}

TEST(CliBatch, AFailingJobIsReportedAndTheRestContinue) {
  TempDir dir;
  const ProcessResult r = run_sagegen({"batch", SAGEGEN_SOURCE_DIR "/tests/app/data/jobs-mixed.yaml",
                                       "--model", kTinyModel, "-o", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("2 done, 0 skipped, 1 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAILED"), std::string::npos);
  EXPECT_NE(r.err.find("jobs-mixed.yaml:5) failed: size: 30x32 is not a multiple"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir.path() / "a-red-circle-s1.png"));
  EXPECT_TRUE(fs::exists(dir.path() / "ring.png"));
  EXPECT_FALSE(fs::exists(dir.path() / "a-blue-square-s2.json"));
}

TEST(CliBatch, FileErrorsExitWith2BeforeAnyJobRuns) {
  TempDir dir;
  const fs::path path = dir.path() / "bad.yaml";
  testing::write_bytes(path, "jobs:\n  - {prompt: x, seed: 1}\n  - {prompt: y, colour: red}\n");
  const ProcessResult r = run_sagegen({"batch", path.string(), "-o", dir.path().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("sagegen: error: " + path.string() + ":3: unknown key 'colour' in a job", 0),
            0u)
      << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "x-s1.png"));
}


// Issue 13 item 1: what cannot fit is refused at once (exit 2, one line naming what was asked
// and the limit), with nothing written.
TEST(CliLimits, AbsurdSizeFramesCfgAndDepthAreRefusedAtOnce) {
  TempDir dir;
  const fs::path out = dir.path() / "x.png";
  const auto args = [&](std::vector<std::string> extra) { return tiny_args(out, std::move(extra)); };
  expect_usage_error(args({"--size", "100000x100000"}), "--size 100000x100000 --frames 1: needs at least ");
  expect_usage_error(args({"--frames", "2000000000"}), "--size 32x32 --frames 2000000000: needs at least ");
  expect_usage_error(args({"--cfg-scale", "1e308"}), "--cfg-scale: 1e308 is out of range");

  std::string config = read_bytes(kTinyModel);
  config.replace(config.find("depth: 2"), 8, "depth: 100000000");
  config.replace(config.find("../../../assets/vocab.txt"), 25, SAGEGEN_SOURCE_DIR "/assets/vocab.txt");
  const fs::path deep = dir.path() / "deep.yaml";
  testing::write_bytes(deep, config);
  std::vector<std::string> deep_args = args({});
  deep_args[3] = deep.string();  // --model
  expect_usage_error(deep_args, deep.string() + ": dit depth 100000000, width 64, ffn_dim 128");
  EXPECT_FALSE(fs::exists(out));

  // In a batch file: refused before the first job runs, naming the job's line.
  const fs::path jobs = dir.path() / "jobs.yaml";
  testing::write_bytes(jobs, "jobs:\n  - {prompt: a red circle, seed: 1}\n"
                             "  - {prompt: a ring, size: 100000x100000}\n");
  expect_usage_error({"batch", jobs.string(), "--model", kTinyModel, "--device", "cpu", "-o",
                      (dir.path() / "out").string()},
                     jobs.string() + ":3: --size 100000x100000 --frames 1: needs at least ");
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "a-red-circle-s1.png"));
}

// Issue 13 item 5: output paths are checked, and locked, before any work.
TEST(CliOutputs, BadPathsAndConcurrentWritersAreRefusedBeforeWork) {
  TempDir dir;
  testing::write_bytes(dir.path() / "blocker", "a file, not a directory");
  expect_usage_error(tiny_args(dir.path() / "blocker" / "sub" / "x.png"),
                     "--out: cannot create directory '" + (dir.path() / "blocker" / "sub").string() +
                         "': '" + (dir.path() / "blocker").string() + "' is a file");

  // A live process holds the lock (this test's own pid): the second writer loses at once.
  const fs::path lock = dir.path() / "y.json.lock";
  testing::write_bytes(lock, std::to_string(getpid()) + "\n");
  expect_usage_error(tiny_args(dir.path() / "y.png"),
                     "--out: another sagegen run (pid " + std::to_string(getpid()) + ") is writing '" +
                         (dir.path() / "y.png").string() + "'");
  EXPECT_FALSE(fs::exists(dir.path() / "y.png"));

  // A lock left by a run that died is taken over, and removed at the end.
  testing::write_bytes(lock, "999999999\n");
  const ProcessResult r = run_sagegen(tiny_args(dir.path() / "y.png", {"--steps", "1"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.path() / "y.png"));
  EXPECT_FALSE(fs::exists(lock));
}

// Issue 13 item 7: -b/--batch-count N writes N images with seeds s, s+1, ...
TEST(CliGenerate, BatchCountWritesOneImagePerSeed) {
  TempDir dir;
  const fs::path png = dir.path() / "pic.png";
  const ProcessResult r = run_sagegen(tiny_args(png, {"-s", "7", "-b", "2", "--steps", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, png.string() + "\n" + (dir.path() / "pic_2.png").string() + "\n");
  EXPECT_EQ(nlohmann::json::parse(read_bytes(dir.path() / "pic.json"))["seed"], 7);
  EXPECT_EQ(nlohmann::json::parse(read_bytes(dir.path() / "pic_2.json"))["seed"], 8);
  EXPECT_NE(read_bytes(png), read_bytes(dir.path() / "pic_2.png"));
}

// Issue 13 item 3: unknown words in one warning line and the sidecar; --strict-prompt refuses.
TEST(CliGenerate, UnknownWordsAreNamedOnceAndStrictPromptRefuses) {
  TempDir dir;
  std::vector<std::string> args = tiny_args(dir.path() / "u.png", {"--steps", "1"});
  args[1] = "a mauve circle above a zebra";
  const ProcessResult r = run_sagegen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 words of the prompt not in the vocabulary"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("a mauve circle above a zebra"), std::string::npos) << r.err;  // not echoed
  const auto sidecar = nlohmann::json::parse(read_bytes(dir.path() / "u.json"));
  EXPECT_EQ(sidecar["unknown_words"], nlohmann::json({"mauve", "zebra"}));

  // The check needs the model's vocabulary, so it comes after loading: quiet its log lines.
  args.insert(args.end(), {"--strict-prompt", "--overwrite", "--log-level", "error"});
  expect_usage_error(args, "--strict-prompt: 2 words of the prompt the model cli-test-tiny has no "
                           "embedding for: 'mauve', 'zebra'");
}

// Issue 13 item 8: the bar's line is closed before the pipeline's next log line.
TEST(CliProgress, BarLineEndsWhenTheLastStepIsDone) {
  TempDir dir;
  std::FILE* stream = std::fopen((dir.path() / "bar").c_str(), "w+");
  ASSERT_NE(stream, nullptr);
  ProgressBar bar("", 2, ProgressStyle::kRedraw, stream);
  const ProgressFn progress = step_progress_for(bar);
  progress(StepProgress{1, 2, 0.5});
  progress(StepProgress{2, 2, 1.0});
  std::fclose(stream);
  const std::string text = read_bytes(dir.path() / "bar");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << text;
}

// Issue 13 item 4: a job is skipped only when its sidecar records the same settings; otherwise
// it fails naming the difference, and --overwrite regenerates it.
TEST(CliBatch, ChangedSettingsAreNotReportedAsSkipped) {
  TempDir dir;
  const std::string jobs = write_batch(dir.path());
  const fs::path out = dir.path() / "out";
  std::vector<std::string> base = {"batch", jobs, "--model", kTinyModel, "--device", "cpu",
                                   "-o", out.string()};
  ASSERT_EQ(run_sagegen(base).exit_code, 0);
  const auto written = fs::last_write_time(out / "ring.json");

  std::vector<std::string> changed = base;
  changed.insert(changed.end(), {"--cfg-scale", "2"});
  const ProcessResult r = run_sagegen(changed);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("0 done, 0 skipped, 2 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find((out / "ring.json").string() + " exists with other settings (cfg_scale 4.0 "
                       "in the sidecar, 2.0 now); --overwrite regenerates it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(fs::last_write_time(out / "ring.json"), written);

  changed.push_back("--overwrite");
  const ProcessResult again = run_sagegen(changed);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("2 done, 0 skipped, 0 failed"), std::string::npos) << again.out;
  EXPECT_EQ(nlohmann::json::parse(read_bytes(out / "ring.json"))["cfg_scale"], 2.0);
}

}  // namespace
}  // namespace sagegen::cli
