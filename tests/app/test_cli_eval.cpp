// `sagegen eval` through the built binary: --rendered needs no model, so the whole command runs
// in CI; flag and prompt-file errors exit 2 with one line.
#include <gtest/gtest.h>

#include "cli_process.h"

namespace sagegen::cli::testing {
namespace {

TEST(CliEval, RenderedPromptSetsScorePerfectly) {
  const ProcessResult r = run_sagegen({"eval", "--rendered", "--count", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* needle : {"seen prompts (20), rendered by the world (no model):", "held-out prompts (20)",
                             "colour        1.000  (20/20)", "colour+shape  1.000  (20/20)", "relation      1.000  (20/20)"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
  }
}

TEST(CliEval, RenderedClipsScoreMotion) {
  const ProcessResult r = run_sagegen({"eval", "--rendered", "--set", "seen", "--count", "10", "--frames", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("motion        1.000  (10/10)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("held-out"), std::string::npos) << r.out;
}

TEST(CliEval, BadFlagsAndPromptFilesExitTwoWithOneLine) {
  const ProcessResult bad_set = run_sagegen({"eval", "--set", "nope"});
  EXPECT_EQ(bad_set.exit_code, 2);
  EXPECT_EQ(bad_set.err, "sagegen: error: --set: unknown prompt set 'nope' (one of: seen, held-out, both)\n");

  const ProcessResult bad_flag = run_sagegen({"eval", "--colour", "red"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_EQ(bad_flag.err, "sagegen: error: eval: unknown flag '--colour' (sagegen eval --help)\n");

  TempDir dir("cli-eval");
  const auto prompts = dir.path() / "prompts.txt";
  write_bytes(prompts, "a red circle above a blue square\n\na purple banana\n");
  const ProcessResult bad_line = run_sagegen({"eval", "--prompts", prompts.string()});
  EXPECT_EQ(bad_line.exit_code, 2);
  EXPECT_NE(bad_line.err.find(prompts.string() + ":3: prompt parser: word 'banana'"), std::string::npos)
      << bad_line.err;
  EXPECT_EQ(bad_line.err.find('\n'), bad_line.err.size() - 1) << bad_line.err;
}

}  // namespace
}  // namespace sagegen::cli::testing
