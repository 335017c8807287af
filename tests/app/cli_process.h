// Runs the built sagegen binary with exact arguments (no shell) and captures its output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/temp_dir.h"

namespace sagegen::cli::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when the process died from a signal (a crash)
  std::string out;
  std::string err;
};

ProcessResult run_sagegen(const std::vector<std::string>& args,
                          const std::filesystem::path& working_dir = SAGEGEN_SOURCE_DIR);

// The tiny random-weight model config the CLI tests generate with (2 blocks: layer ids 0..3).
inline const std::string kTinyModel = SAGEGEN_SOURCE_DIR "/tests/app/data/tiny-random.yaml";

using sagegen::testing::TempDir;

using sagegen::testing::read_bytes;
using sagegen::testing::write_bytes;

}  // namespace sagegen::cli::testing
