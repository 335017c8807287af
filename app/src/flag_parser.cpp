#include "flag_parser.h"

#include <CLI/CLI.hpp>

#include <algorithm>

#include "usage_error.h"

namespace sagegen::cli {
namespace {

// CLI11 2.x words its argument errors "<name>: 1 required TEXT missing" and "<name> was given a
// disallowed flag override"; the name is the spelling CLI11 matched (its first word).
std::string first_word(const std::string& text) {
  const auto end = text.find_first_of(": ");
  return text.substr(0, end);
}

std::string as_flag(const std::string& name) {
  if (name.empty() || name[0] == '-') return name;
  return (name.size() == 1 ? "-" : "--") + name;
}

}  // namespace

FlagParser::FlagParser(UnknownFlag unknown_flag)
    : app_(std::make_unique<CLI::App>()), unknown_flag_(std::move(unknown_flag)) {
  app_->allow_extras(true);  // unknown flags and positionals come back for our own messages
  app_->set_help_flag();     // -h/--help are declared by the commands like any other switch
}

FlagParser::~FlagParser() = default;

void FlagParser::add_value(const std::vector<std::string>& spellings, ApplyValue apply) {
  // One CLI11 option per spelling, so the handler knows which one the user typed.
  for (const std::string& flag : spellings) {
    app_->add_option_function<std::string>(
            flag, [apply, flag](const std::string& value) { apply(value, flag); })
        ->trigger_on_parse()
        ->allow_extra_args(false);
    if (flag.rfind("--", 0) == 0) long_names_.push_back(flag.substr(2));
  }
}

void FlagParser::add_switch(const std::vector<std::string>& spellings, std::function<void()> apply) {
  for (const std::string& flag : spellings) {
    app_->add_flag_function(flag, [apply](std::int64_t) { apply(); })
        ->trigger_on_parse()
        ->disable_flag_override();
    if (flag.rfind("--", 0) == 0) long_names_.push_back(flag.substr(2));
  }
}

std::vector<std::string> FlagParser::parse(const std::vector<std::string>& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app_->parse(reversed);
  } catch (const CLI::ArgumentMismatch& e) {
    const std::string what = e.what();
    const std::string flag = as_flag(first_word(what));
    if (what.find("disallowed flag override") != std::string::npos) {
      throw UsageError(flag + ": takes no value");
    }
    throw UsageError(flag + ": missing value");
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  std::vector<std::string> positionals;
  for (const std::string& arg : app_->remaining()) {
    if (arg.size() >= 2 && arg[0] == '-' && arg != "--") {
      const bool is_long = arg.rfind("--", 0) == 0;
      const std::string flag = is_long ? arg.substr(0, arg.find('=')) : arg;
      unknown_flag_(flag, is_long ? flag.substr(2) : std::string());
      throw UsageError("unknown flag '" + flag + "'");  // unknown_flag_ must throw; never here
    }
    positionals.push_back(arg);
  }
  return positionals;
}

}  // namespace sagegen::cli
