// The same flag behaves the same in every sub-command (issue 12): the shared flags are declared
// once (app/src/common_flags.h) and every parser runs on CLI11 (app/src/flag_parser.h), so a bad
// --log-level, a missing value, a value given to a switch and an alias get the same one-line
// error (exit code 2 through the binary) everywhere.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "calibrate_args.h"
#include "cli_process.h"
#include "command_line.h"
#include "compare_options.h"
#include "usage_error.h"

namespace sagegen::cli::testing {
namespace {

using Args = std::vector<std::string>;

Args with(Args command, const Args& flags) {
  command.insert(command.end(), flags.begin(), flags.end());
  return command;
}

// One per parser: generate's also serves batch and bench-pipeline.
const std::vector<Args>& every_command() {
  static const std::vector<Args> commands = {
      {}, {"compare", "-p", "x"}, {"calibrate"}, {"eval"}, {"train"}};
  return commands;
}

std::string label(const Args& command) { return command.empty() ? "(none)" : command[0]; }

TEST(CliFlagsAlike, LogLevelIsCheckedAlikeEverywhere) {
  for (const Args& command : every_command()) {
    const ProcessResult r = run_sagegen(with(command, {"--log-level", "warning"}));
    EXPECT_EQ(r.exit_code, 2) << label(command);
    EXPECT_EQ(r.err,
              "sagegen: error: --log-level: unknown log level 'warning' (one of: trace, debug, "
              "info, warn, error, critical, off)\n")
        << label(command);
  }
}

// In-process (each process above costs a libtorch start): the parsers of generate, calibrate and
// compare word a missing value and a value given to a switch alike.
template <typename Parse>
std::string usage_error_of(Parse parse, const Args& args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CliFlagsAlike, MissingValuesAndSwitchValuesAreWordedAlike) {
  const auto generate = [](const Args& a) { parse_command_line(a); };
  const auto calibrate = [](const Args& a) { parse_calibrate_args(a); };
  const auto compare = [](const Args& a) { parse_compare_args(with({"-p", "x"}, a)); };
  for (const auto& [name, error_of] :
       std::vector<std::pair<std::string, std::function<std::string(const Args&)>>>{
           {"generate", [&](const Args& a) { return usage_error_of(generate, a); }},
           {"calibrate", [&](const Args& a) { return usage_error_of(calibrate, a); }},
           {"compare", [&](const Args& a) { return usage_error_of(compare, a); }}}) {
    EXPECT_EQ(error_of({"--steps"}), "--steps: missing value") << name;
    EXPECT_EQ(error_of({"--help=yes"}), "--help: takes no value") << name;
    EXPECT_EQ(error_of({"--overwrite=1"}), "--overwrite: takes no value") << name;
    EXPECT_EQ(error_of({"--cfg", "nan"}), "--cfg: 'nan' must be a finite number") << name;
  }
}

}  // namespace
}  // namespace sagegen::cli::testing
