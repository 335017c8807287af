#include "progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <spdlog/fmt/fmt.h>

namespace sagegen::cli {
namespace {

constexpr int kBarWidth = 30;

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long total = std::lround(seconds);
  if (total >= 3600) return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  return fmt::format("{:02}:{:02}", total / 60, total % 60);
}

}  // namespace

ProgressStyle progress_style_for(std::FILE* stream) {
  return isatty(fileno(stream)) ? ProgressStyle::kRedraw : ProgressStyle::kLines;
}

ProgressBar::ProgressBar(std::string label, int total, ProgressStyle style, std::FILE* stream)
    : label_(std::move(label)), total_(std::max(total, 1)), style_(style), stream_(stream) {}

std::string ProgressBar::render(const std::string& label, int done, int total, double seconds,
                                int bar_width) {
  total = std::max(total, 1);
  done = std::clamp(done, 0, total);
  const int filled = done * bar_width / total;
  const double rate = seconds > 0 ? done / seconds : 0.0;
  const double eta = rate > 0 ? (total - done) / rate : -1.0;
  // Slow steps (big models on CPU) read better as s/it than as 0.05 it/s.
  const std::string speed =
      (rate >= 1.0 || rate == 0.0) ? fmt::format("{:.2f} it/s", rate) : fmt::format("{:.2f} s/it", 1.0 / rate);
  return fmt::format("{}[{}{}] {}/{} {} ETA {}", label.empty() ? "" : label + " ",
                     std::string(filled, '#'), std::string(bar_width - filled, ' '), done, total,
                     speed, format_duration(eta));
}

void ProgressBar::update(int done, double seconds) {
  const std::string text = render(label_, done, total_, seconds, kBarWidth);
  if (style_ == ProgressStyle::kRedraw) {
    // \r + clear-to-end-of-line keeps one line however the width changes.
    std::fprintf(stream_, "\r%s\x1b[K", text.c_str());
    line_open_ = true;
  } else {
    // Sparse lines: at most one per tenth of the work, plus the last step.
    const int decile = done * 10 / total_;
    if (decile == last_line_decile_ && done != total_) return;
    last_line_decile_ = decile;
    std::fprintf(stream_, "%s\n", text.c_str());
  }
  std::fflush(stream_);
}

void ProgressBar::finish() {
  if (line_open_) {
    std::fputc('\n', stream_);
    std::fflush(stream_);
    line_open_ = false;
  }
}

}  // namespace sagegen::cli
