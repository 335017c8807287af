// Batch files: `defaults:` (any generation key), `out_dir:`, and `jobs:` with per-job overrides.
// Every problem is a UsageError "FILE:LINE: ..." raised before any job runs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "generation_settings.h"

namespace sagegen::cli {

struct BatchJob {
  GenerationSettings settings;  // defaults, then the job's keys, then command-line flags
  std::string stem;             // output file stem: `name:` or one from prompt and seed
  int line = 0;                 // where the job starts in the file (1-based)
};

struct BatchFile {
  std::string out_dir = "outputs";
  std::vector<BatchJob> jobs;
};

// overrides: generation flags from the command line, applied over every job.
BatchFile load_batch_file(const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& overrides);

}  // namespace sagegen::cli
