// One sub-command's flags, each declared once (every spelling, whether it takes a value, what it
// does), parsed by CLI11. Values are applied in command-line order by the declaration's handler,
// which gets the flag as the user typed it, so every message names that spelling. Errors are
// UsageErrors (exit 2): "--steps: missing value", "--overwrite: takes no value", and unknown flags
// through the caller's formatter (which may suggest the nearest declared name).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sagegen::cli {

class FlagParser {
 public:
  // unknown_flag(flag as typed, its long name without "--" or "" for a short flag) must throw.
  using UnknownFlag = std::function<void(const std::string& flag, const std::string& key)>;
  using ApplyValue = std::function<void(const std::string& value, const std::string& flag)>;

  explicit FlagParser(UnknownFlag unknown_flag);
  ~FlagParser();
  FlagParser(const FlagParser&) = delete;
  FlagParser& operator=(const FlagParser&) = delete;

  // spellings: "-p", "--prompt", "--cfg" (aliases are spellings of the same flag).
  void add_value(const std::vector<std::string>& spellings, ApplyValue apply);
  void add_switch(const std::vector<std::string>& spellings, std::function<void()> apply);

  // Parses args (without the program and command names); returns the positional arguments in
  // order. Throws UsageError, or what a handler or unknown_flag throws.
  std::vector<std::string> parse(const std::vector<std::string>& args);

  // Every long spelling declared, without "--" (for "did you mean" and help checks).
  const std::vector<std::string>& long_names() const { return long_names_; }

 private:
  std::unique_ptr<CLI::App> app_;
  UnknownFlag unknown_flag_;
  std::vector<std::string> long_names_;
};

}  // namespace sagegen::cli
