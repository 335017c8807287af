#include "summary_table.h"

#include <algorithm>

#include <spdlog/fmt/fmt.h>

namespace sagegen::cli {

std::string to_string(JobStatus status) {
  switch (status) {
    case JobStatus::kDone: return "done";
    case JobStatus::kSkipped: return "skipped";
    case JobStatus::kFailed: return "FAILED";
  }
  return "?";
}

std::string format_summary_table(const std::vector<JobRow>& rows) {
  std::size_t job_width = 3;
  for (const auto& row : rows) job_width = std::max(job_width, row.job.size());
  std::string out = fmt::format("{:<{}}  {:<7}  {:>8}  {}\n", "job", job_width, "status",
                                "seconds", "output");
  int counts[3] = {0, 0, 0};
  for (const auto& row : rows) {
    out += fmt::format("{:<{}}  {:<7}  {:>8.2f}  {}\n", row.job, job_width, to_string(row.status),
                       row.seconds, row.output);
    ++counts[static_cast<int>(row.status)];
  }
  out += fmt::format("{} done, {} skipped, {} failed\n", counts[0], counts[1], counts[2]);
  return out;
}

}  // namespace sagegen::cli
