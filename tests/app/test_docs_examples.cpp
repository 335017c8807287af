// Every `sagegen` command in a fenced block of README.md, docs/*.md and `sagegen --help`'s
// examples (issue 13 item 8): the repository files it reads (configs/..., assets/...) exist,
// generate and batch commands parse, and every one that is cheap on the CPU runs, on tiny
// settings (1 sampling step, 2 training steps, 1 prompt a set, outputs in a temporary
// directory), and exits 0. The rest (GPU, calibration, files the reader makes first) are
// listed with the reason they are not run.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_process.h"
#include "command_line.h"
#include "help_text.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

namespace fs = std::filesystem;

struct Example {
  std::string where;  // file:line
  std::vector<std::string> args;  // after "sagegen"
};

// Shell words of one command line: quotes removed, a `#` comment, `&&`, `|`, `;` or `>` ends it.
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else if ((c == '#' && !in_word) || c == '|' || c == ';' || c == '>' || c == '&') {
      break;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

// Commands in ``` blocks of `text` (and, with `fenced` false, every line), continuation lines
// joined. Synopsis lines with placeholders ([options], FILE.yaml, <...>) are left out.
void collect(const std::string& text, const std::string& name, bool fenced,
             std::vector<Example>& out) {
  std::istringstream in(text);
  std::string line;
  bool in_block = !fenced;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const int first = number;
    if (fenced && line.rfind("```", 0) == 0) {
      in_block = !in_block;
      continue;
    }
    if (!in_block) continue;
    while (!line.empty() && line.back() == '\\') {
      std::string next;
      if (!std::getline(in, next)) break;
      ++number;
      line.pop_back();
      line += " " + next;
    }
    const auto chained = line.find("&& ");
    if (chained != std::string::npos) line = line.substr(chained + 3);  // setup.sh && sagegen ...
    std::vector<std::string> words = shell_words(line);
    const auto start = std::find_if(words.begin(), words.end(), [](const std::string& w) {
      return w == "sagegen" || w == "./build/app/sagegen";
    });
    if (start == words.end()) continue;
    const std::vector<std::string> args(start + 1, words.end());
    if (line.find('[') != std::string::npos || line.find('<') != std::string::npos ||
        line.find("FILE") != std::string::npos || line.find("PROMPT") != std::string::npos) {
      continue;
    }
    out.push_back({name + ":" + std::to_string(first), args});
  }
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Example> documented_examples() {
  std::vector<Example> examples;
  const fs::path root = SAGEGEN_SOURCE_DIR;
  collect(read_text(root / "README.md"), "README.md", true, examples);
  for (const auto& entry : fs::directory_iterator(root / "docs")) {
    if (entry.path().extension() == ".md") {
      collect(read_text(entry.path()), "docs/" + entry.path().filename().string(), true, examples);
    }
  }
  const std::string help = help_text();
  collect(help.substr(help.find("examples:")), "sagegen --help", false, examples);
  return examples;
}

// Flags whose value is a file sagegen reads; `--tables` takes a comma-separated list.
bool is_input_flag(const std::string& flag) {
  return flag == "--model" || flag == "-m" || flag == "--config" || flag == "--table" ||
         flag == "--tables" || flag == "--weights" || flag == "--prompts";
}

std::vector<std::string> input_files(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i == 1 && args[0] == "batch") files.push_back(args[1]);
    if (i + 1 < args.size() && is_input_flag(args[i])) {
      std::stringstream list(args[i + 1]);
      std::string item;
      while (std::getline(list, item, ',')) files.push_back(item);
    }
  }
  return files;
}

// Runs in the source directory, where the documented relative paths point.
class DocsExamples : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = fs::current_path();
    fs::current_path(SAGEGEN_SOURCE_DIR);
  }
  void TearDown() override { fs::current_path(previous_); }
  fs::path previous_;
};

TEST_F(DocsExamples, TheRepositoryFilesTheyReadExist) {
  const std::vector<Example> examples = documented_examples();
  EXPECT_GT(examples.size(), 20u);  // the extraction finds them
  for (const Example& example : examples) {
    for (const std::string& file : input_files(example.args)) {
      if (file.rfind("configs/", 0) != 0 && file.rfind("assets/", 0) != 0) continue;
      EXPECT_TRUE(fs::exists(file)) << example.where << ": " << file;
    }
  }
}

// `--gpus N` is the launcher's (app/src/rank_launch.cpp: taken before the flags are parsed,
// tests/parallel runs it); "..." stands for the rest of a command the reader fills in.
std::vector<std::string> without_launcher(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--gpus" && i + 1 < args.size()) {
      ++i;
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

bool has_placeholder(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "...") != args.end();
}

TEST_F(DocsExamples, GenerateAndBatchCommandsParse) {
  int parsed = 0;
  for (const Example& documented : documented_examples()) {
    if (has_placeholder(documented.args)) continue;
    Example example = documented;
    example.args = without_launcher(documented.args);
    const bool other_command = !example.args.empty() && example.args[0][0] != '-' &&
                               example.args[0] != "generate" && example.args[0] != "batch";
    if (other_command) continue;
    // A file an earlier documented step writes (outputs/...) is checked by the parser; such a
    // command is run by DocsExamples' run test after that step, not parsed on its own here.
    const std::vector<std::string> inputs = input_files(example.args);
    if (std::any_of(inputs.begin(), inputs.end(), [](const std::string& file) {
          return file.rfind("outputs/", 0) == 0 && !fs::exists(file);
        })) {
      continue;
    }
    try {
      parse_command_line(example.args);
      ++parsed;
    } catch (const UsageError& e) {
      ADD_FAILURE() << example.where << ": " << e.what();
    }
  }
  EXPECT_GT(parsed, 5);
}

// The command a documented example becomes when the test runs it, or why it is not run.
struct CheapForm {
  std::vector<std::string> args;
  std::string skipped;  // non-empty: the reason
};

bool has_flag(const std::vector<std::string>& args, const std::string& flag) {
  return std::find(args.begin(), args.end(), flag) != args.end();
}

CheapForm cheap_form(const Example& example, const fs::path& out_dir, int index) {
  CheapForm form;
  std::vector<std::string> args = example.args;
  if (args.empty()) return {{}, "no arguments"};
  if (has_placeholder(args)) return {{}, "a placeholder (\"...\") the reader fills in"};
  if (has_flag(args, "--gpus")) return {{}, "starts several ranks (tests/parallel runs the launcher)"};
  const std::string command = args[0][0] == '-' ? "generate" : args[0];
  if (has_flag(args, "--help") || has_flag(args, "-h") || has_flag(args, "--version")) {
    return {args, ""};
  }
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--device" && args[i + 1] == "cuda") return {{}, "needs a GPU"};
  }
  if (command == "bench-pipeline") return {{}, "a GPU benchmark"};
  if (command == "calibrate") return {{}, "minutes on the CPU (test_cli_calibrate.cpp runs it small)"};
  // Files the reader makes first (a checkpoint of an earlier run, their own prompt list).
  std::vector<std::string> inputs = input_files(args);
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--resume" || args[i] == "--export-ema" || args[i] == "--export-resume") {
      inputs.push_back(args[i + 1]);
    }
  }
  for (const std::string& file : inputs) {
    if (!fs::exists(file) && file.find('/') != std::string::npos) return {{}, "reads " + file + ", made by an earlier step"};
    if (!fs::exists(file) && file.find('.') != std::string::npos) return {{}, "reads " + file + ", the reader's own file"};
  }
  const bool train = command == "train";
  // A table's rules name steps ("2-", "0-4"), which must lie inside the run: an example with a
  // table keeps its own step count.
  const bool with_table = has_flag(args, "--table") || has_flag(args, "--tables");
  const std::string steps = train ? "2" : "1";
  const std::string out = (out_dir / ("example-" + std::to_string(index))).string();
  bool has_out = false, has_steps = false, has_device = false;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    std::string& flag = args[i];
    std::string& value = args[i + 1];
    if (flag == "--out" || flag == "-o") {
      value = out + fs::path(value).extension().string();
      has_out = true;
    } else if (flag == "--csv" || flag == "--heatmap") {
      // Side files go to the test's folder too, never into the source tree it runs in.
      value = out + "-" + flag.substr(2) + fs::path(value).extension().string();
    } else if (flag == "--steps") {
      if (!with_table) value = steps;
      has_steps = true;
    } else if (flag == "--count" || flag == "--seeds") {
      value = "1";
    } else if (flag == "--warmup" && train) {
      value = "1";
    } else if (flag == "--device") {
      has_device = true;
    }
  }
  if (!has_steps && !with_table) args.insert(args.end(), {"--steps", steps});
  if (train && !has_flag(args, "--warmup")) args.insert(args.end(), {"--warmup", "1"});
  if (!has_device && command != "batch") args.insert(args.end(), {"--device", "cpu"});
  if (!has_out && command != "eval") {
    args.insert(args.end(), {"--out", command == "generate" ? out + ".png" : out});
  }
  if (command == "eval" && !has_flag(args, "--count")) args.insert(args.end(), {"--count", "1"});
  form.args = args;
  return form;
}

// Runs every cheap example: about a second each on a 2-core machine (a model load, one step).
TEST_F(DocsExamples, CheapCommandsRunOnTheCpu) {
  const testing::TempDir dir("docs-examples");
  int index = 0, ran = 0;
  std::string skipped, timings;
  for (const Example& example : documented_examples()) {
    const CheapForm form = cheap_form(example, dir.path(), index++);
    if (!form.skipped.empty()) {
      skipped += "\n  " + example.where + ": " + form.skipped;
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    const testing::ProcessResult result = testing::run_sagegen(form.args);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    timings += fmt::format("\n  {:5.1f} s  {}", seconds, example.where);
    ++ran;
    std::string command;
    for (const auto& arg : form.args) command += " " + arg;
    EXPECT_EQ(result.exit_code, 0) << example.where << ": sagegen" << command << "\n"
                                   << result.err.substr(result.err.size() > 2000 ? result.err.size() - 2000 : 0);
  }
  EXPECT_GT(ran, 10);
  std::printf("ran %d documented commands:%s\nnot run:%s\n", ran, timings.c_str(), skipped.c_str());
}

}  // namespace
}  // namespace sagegen::cli
