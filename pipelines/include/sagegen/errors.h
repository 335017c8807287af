// Exceptions a client (the CLI, batch runner) can tell apart: a bad request or a bad config is
// the user's to fix (the CLI exits with code 2), anything else is an internal or runtime failure.
#pragma once

#include <stdexcept>
#include <string>

namespace sagegen {

// A request that cannot run as asked: size not a multiple of the patch, frames < 1, steps < 1,
// CUDA asked for but unavailable. The message names the flag/field and the bad value.
class RequestError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A model config, weights or table that cannot be used: missing file, unknown or missing YAML key,
// wrong value. The message names the file and the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A run that went wrong at run time in a way the user should hear about precisely: non-finite
// values (NaN/Inf) in the latent, naming the step and the first attention layer that produced
// them, or an allocation that failed, naming the stage and the size. The CLI exits with code 1.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sagegen
