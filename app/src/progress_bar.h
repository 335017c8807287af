// A progress bar on stderr for denoising steps: redrawn in place on a terminal, and as a few
// plain lines when stderr is a file or pipe (CI logs, batch runs under nohup).
#pragma once

#include <cstdio>
#include <string>

namespace sagegen::cli {

enum class ProgressStyle { kRedraw, kLines };

// Picks kRedraw when `stream` is a terminal.
ProgressStyle progress_style_for(std::FILE* stream);

class ProgressBar {
 public:
  ProgressBar(std::string label, int total, ProgressStyle style, std::FILE* stream = stderr);
  // done: steps finished so far (1..total); seconds: time since the work began.
  void update(int done, double seconds);
  // Ends the redrawn line so later logs start on a fresh line.
  void finish();

  // "[#####     ] 5/10 2.50 it/s ETA 00:02" - public for tests.
  static std::string render(const std::string& label, int done, int total, double seconds,
                            int bar_width);

 private:
  std::string label_;
  int total_;
  ProgressStyle style_;
  std::FILE* stream_;
  int last_line_decile_ = -1;
  bool line_open_ = false;
};

}  // namespace sagegen::cli
