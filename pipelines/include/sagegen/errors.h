// Exceptions a client (the CLI, batch runner) can tell apart: a bad request or a bad config is
// the user's to fix (the CLI exits with code 2), anything else is an internal or runtime failure.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sagegen {

// A field of a LoadOptions or GenerateRequest (request.h) that an error is about, with the value
// it had as text: {"frames", "8"}; {"strict_prompt", ""} for a switch.
struct FieldValue {
  std::string field;
  std::string value;
};

// "width 18, height 12": how the library names fields in its messages.
inline std::string name_fields(const std::vector<FieldValue>& fields) {
  std::string text;
  for (const auto& [field, value] : fields) {
    text += (text.empty() ? "" : ", ") + field + (value.empty() ? "" : " " + value);
  }
  return text;
}

// The fields an error names and what is wrong with them, kept apart so that a client can name
// the fields its own way (the CLI names the flags that set them).
class FieldErrorParts {
 public:
  FieldErrorParts() = default;
  FieldErrorParts(std::vector<FieldValue> fields, std::string detail)
      : fields_(std::move(fields)), detail_(std::move(detail)) {}
  // Empty when the message names no field (it then names a file and key, or nothing).
  const std::vector<FieldValue>& fields() const { return fields_; }
  const std::string& detail() const { return detail_; }  // the message after "<fields>: "

 private:
  std::vector<FieldValue> fields_;
  std::string detail_;
};

// A request that cannot run as asked: size not a multiple of the patch, frames < 1, steps < 1,
// CUDA asked for but unavailable. The message names the field and the bad value.
class RequestError : public std::invalid_argument, public FieldErrorParts {
 public:
  using std::invalid_argument::invalid_argument;
  // what() is "<field> <value>, ...: <detail>".
  RequestError(std::vector<FieldValue> fields, const std::string& detail)
      : std::invalid_argument(name_fields(fields) + ": " + detail),
        FieldErrorParts(std::move(fields), detail) {}
};

// A model config, weights or table that cannot be used: missing file, unknown or missing YAML key,
// wrong value. The message names the file and the key, or the load option that named the file.
class ConfigError : public std::runtime_error, public FieldErrorParts {
 public:
  using std::runtime_error::runtime_error;
  // what() is "<field> <value>, ...: <detail>".
  ConfigError(std::vector<FieldValue> fields, const std::string& detail)
      : std::runtime_error(name_fields(fields) + ": " + detail),
        FieldErrorParts(std::move(fields), detail) {}
};

// A run that went wrong at run time in a way the user should hear about precisely: non-finite
// values (NaN/Inf) in the latent, naming the step and the first attention layer that produced
// them, or an allocation that failed, naming the stage and the size. The CLI exits with code 1.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sagegen
