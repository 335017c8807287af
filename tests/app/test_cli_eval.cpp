// `sagegen eval` through the built binary: --rendered needs no model, so the whole command runs
// in CI; flag and prompt-file errors exit 2 with one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

// --csv: a header, then one row per prompt of each set with 1/0 per attribute the prompt asks
// for and an empty field for the others; an existing file needs --overwrite, a missing folder
// is refused before any drawing.
TEST(CliEval, CsvHasOneRowPerPromptAndKeepsExistingFiles) {
  TempDir dir("cli-eval-csv");
  const auto csv = dir.path() / "scores.csv";
  const ProcessResult r =
      run_sagegen({"eval", "--rendered", "--count", "3", "--frames", "8", "--csv", csv.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_bytes(csv);
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  ASSERT_EQ(lines.size(), 7u) << text;  // header + 3 seen + 3 held-out
  EXPECT_EQ(lines[0], "set,index,seed,prompt,colour,shape,colour+shape,size,position,relation,motion");
  EXPECT_EQ(lines[1].rfind("seen,0,,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[4].rfind("held-out,0,,", 0), 0u) << lines[4];
  for (std::size_t i = 1; i < lines.size(); ++i) {
    // Every clip prompt asks for a motion, which the world's own renders always show.
    EXPECT_EQ(lines[i].substr(lines[i].size() - 2), ",1") << lines[i];
    // The 7 attribute fields (these prompts hold no comma): each "1" or empty, never "0".
    std::string fields = lines[i];
    for (int comma = 0; comma < 4; ++comma) fields = fields.substr(fields.find(',') + 1);
    EXPECT_EQ(std::count(fields.begin(), fields.end(), ','), 6) << lines[i];
    EXPECT_EQ(fields.find('0'), std::string::npos) << lines[i];
  }

  const ProcessResult again = run_sagegen({"eval", "--rendered", "--count", "1", "--csv", csv.string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(again.err, "sagegen: error: --csv: '" + csv.string() + "' exists (pass --overwrite to replace it)\n");
  EXPECT_EQ(read_bytes(csv), text);
  const ProcessResult replaced =
      run_sagegen({"eval", "--rendered", "--count", "1", "--csv", csv.string(), "--overwrite"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_NE(read_bytes(csv), text);

  const std::string nowhere = (dir.path() / "missing" / "scores.csv").string();
  const ProcessResult no_dir = run_sagegen({"eval", "--rendered", "--count", "1", "--csv", nowhere});
  EXPECT_EQ(no_dir.exit_code, 2);
  EXPECT_NE(no_dir.err.find("--csv: folder"), std::string::npos) << no_dir.err;
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
