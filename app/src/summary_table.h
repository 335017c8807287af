// The table printed at the end of a batch: job, status, seconds, output (or the error).
#pragma once

#include <string>
#include <vector>

namespace sagegen::cli {

enum class JobStatus { kDone, kSkipped, kFailed };

std::string to_string(JobStatus status);

struct JobRow {
  std::string job;
  JobStatus status = JobStatus::kFailed;
  double seconds = 0;
  std::string output;  // the media path, or the error message of a failed job
};

std::string format_summary_table(const std::vector<JobRow>& rows);

}  // namespace sagegen::cli
