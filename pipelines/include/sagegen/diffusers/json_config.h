// A diffusers or transformers config.json read strictly: every key must be consumed (read,
// checked against the values sagegen supports, or declared without effect on the math), and
// finish() rejects any key left over. Every error is a ConfigError "FILE: KEY: what is wrong".
// A key a config leaves out takes the default the diffusers class gives it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sagegen::diffusers {

class JsonConfig {
 public:
  // Missing file, not JSON, or not a JSON object: ConfigError naming the file.
  static JsonConfig load(const std::filesystem::path& path);
  static JsonConfig parse(const std::string& text, const std::string& source);

  const std::string& source() const { return source_; }
  bool has(const std::string& key) const;  // present (null counts as present)

  // `_class_name` must be one of `classes`; else "FILE: _class_name: X is not Y".
  std::string expect_class(const std::vector<std::string>& classes);

  // Required keys: absent or of the wrong type is an error.
  int integer(const std::string& key);
  double number(const std::string& key);
  bool boolean(const std::string& key);
  std::string string(const std::string& key);
  std::vector<int> integers(const std::string& key);
  const nlohmann::json& value(const std::string& key);  // any JSON value

  // Optional keys: absent takes `fallback`; null is the fallback too for the *_or_null forms.
  int integer_or(const std::string& key, int fallback);
  double number_or(const std::string& key, double fallback);
  bool boolean_or(const std::string& key, bool fallback);
  std::string string_or(const std::string& key, const std::string& fallback);
  std::optional<int> integer_or_null(const std::string& key);  // absent or null: nullopt
  std::vector<int> integers_or(const std::string& key, const std::vector<int>& fallback);

  // The key is absent or holds `supported` (JSON equality: 1 == 1.0); any other value is an
  // error naming the value and `why`.
  void expect(const std::string& key, const nlohmann::json& supported, const std::string& why);
  // A string key whose value must be one of `supported` (absent: `fallback`).
  std::string one_of(const std::string& key, const std::vector<std::string>& supported,
                     const std::string& fallback);
  // Keys with no effect on what sagegen computes (metadata, options of paths it never takes).
  void ignore(const std::vector<std::string>& keys);

  // Any key not consumed is an error: "FILE: KEY: unknown key (...)".
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  JsonConfig(std::shared_ptr<const nlohmann::json> json, std::string source);
  const nlohmann::json* find(const std::string& key);  // marks the key consumed; nullptr: absent

  std::shared_ptr<const nlohmann::json> json_;
  std::string source_;
  std::set<std::string> consumed_;
};

}  // namespace sagegen::diffusers
