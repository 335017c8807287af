// Every `sagegen` command in a fenced block of README.md, docs/*.md and `sagegen --help`'s
// examples (issue 13 item 8): the repository files it reads (configs/..., assets/...) exist, and
// generate and batch commands parse. Running each one is left to the end-to-end tests: many are
// GPU or multi-minute runs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

TEST_F(DocsExamples, GenerateAndBatchCommandsParse) {
  int parsed = 0;
  for (const Example& example : documented_examples()) {
    const bool other_command = !example.args.empty() && example.args[0][0] != '-' &&
                               example.args[0] != "generate" && example.args[0] != "batch";
    if (other_command) continue;
    try {
      parse_command_line(example.args);
      ++parsed;
    } catch (const UsageError& e) {
      ADD_FAILURE() << example.where << ": " << e.what();
    }
  }
  EXPECT_GT(parsed, 5);
}

}  // namespace
}  // namespace sagegen::cli
