#include "compare_figure.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compare_report.h"
#include "sagegen/io/canvas.h"

namespace sagegen::cli {
namespace {

using figures::Canvas;
using figures::Rgb;

constexpr Rgb kBackground{24, 24, 28};
constexpr Rgb kText{235, 235, 235};
constexpr Rgb kDimText{160, 160, 170};
constexpr Rgb kReferenceText{250, 210, 90};
constexpr Rgb kFrameOutline{90, 90, 100};
constexpr int kMargin = 12;
constexpr int kGap = 6;
constexpr int kLabelScale = 2;  // 12x16 pixel cells: readable next to 128-pixel images
constexpr int kNoteScale = 1;
constexpr int kLineGap = 3;  // between the figure lines under an image
// Outputs are enlarged until their larger side reaches this (64x64 -> 128x128).
constexpr int kTargetImageSide = 128;
// Keeps a long clip's strip well under Canvas's 32768-pixel side.
constexpr int kMaxStripWidth = 16000;

int enlargement(int height, int width) { return std::max(1, kTargetImageSide / std::max(height, width)); }

at::Tensor enlarged(const at::Tensor& frame, int factor) {
  if (factor == 1) return frame;
  return frame.repeat_interleave(factor, 0).repeat_interleave(factor, 1);
}

int line_height() { return Canvas::text_height(kLabelScale) + kLineGap; }

std::vector<std::string> figure_lines(const CompareEntry& e) {
  const bool reference = e.kind == CompareEntry::Kind::kReference;
  return {e.label,
          reference ? "PSNR  inf (ref)" : "PSNR  " + format_psnr(e.quality.psnr_db) + " dB",
          "SSIM  " + format_ssim(e.quality.ssim),
          "adh   " + format_adherence(e.adherence),
          fmt::format("time  {:.2f} s", e.seconds_total)};
}

int lines_width(const std::vector<std::string>& lines, int scale) {
  int width = 0;
  for (const auto& line : lines) width = std::max(width, Canvas::text_width(line, scale));
  return width;
}

void draw_lines(Canvas& canvas, int x, int y, const std::vector<std::string>& lines, bool reference) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Rgb colour = i == 0 ? (reference ? kReferenceText : kText) : kDimText;
    canvas.draw_text(x, y + static_cast<int>(i) * line_height(), lines[i], colour, kLabelScale);
  }
}

std::vector<std::string> title_lines(const CompareRun& run) {
  std::vector<std::string> lines = {
      "\"" + run.prompt + "\"",
      fmt::format("model {}  seed {}  steps {}  cfg {:g}  {}x{}{}  on {}", run.model_name, run.seed, run.sampling.steps,
                  run.sampling.cfg_scale, run.sampling.width, run.sampling.height,
                  run.sampling.frames > 1 ? fmt::format("x{}", run.sampling.frames) : std::string(), run.device),
      "PSNR / SSIM against fp16 from the same seed; adh = prompt attributes found / asked"};
  if (run.random_weights) lines.emplace_back("random weights: the outputs are noise");
  return lines;
}

int draw_title(Canvas& canvas, const std::vector<std::string>& lines) {
  int y = kMargin;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int scale = i == 0 ? kLabelScale : kNoteScale;
    canvas.draw_text(kMargin, y, lines[i], i == 0 ? kText : kDimText, scale);
    y += Canvas::text_height(scale) + (i == 0 ? 2 : 0);
  }
  return y + kGap;
}

int title_width(const std::vector<std::string>& lines) {
  int width = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    width = std::max(width, Canvas::text_width(lines[i], i == 0 ? kLabelScale : kNoteScale));
  }
  return width;
}

int title_height(const std::vector<std::string>& lines) {
  return kMargin + Canvas::text_height(kLabelScale) + 2 +
         static_cast<int>(lines.size() - 1) * Canvas::text_height(kNoteScale) + kGap;
}

at::Tensor image_grid(const CompareRun& run) {
  const at::Tensor& first = run.entries.front().video;
  const int factor = enlargement(static_cast<int>(first.size(1)), static_cast<int>(first.size(2)));
  const int image_h = static_cast<int>(first.size(1)) * factor;
  const int image_w = static_cast<int>(first.size(2)) * factor;
  int cell_w = image_w;
  std::vector<std::vector<std::string>> lines;
  for (const CompareEntry& e : run.entries) {
    lines.push_back(figure_lines(e));
    cell_w = std::max(cell_w, lines_width(lines.back(), kLabelScale));
  }
  const int text_h = static_cast<int>(lines.front().size()) * line_height();
  const auto title = title_lines(run);
  const int top = title_height(title);
  const int n = static_cast<int>(run.entries.size());
  const int width = std::max(kMargin + n * (cell_w + kMargin), 2 * kMargin + title_width(title));
  const int height = top + image_h + kGap + text_h + kMargin;
  Canvas canvas(width, height, kBackground);
  draw_title(canvas, title);
  for (int i = 0; i < n; ++i) {
    const CompareEntry& e = run.entries[i];
    const int x = kMargin + i * (cell_w + kMargin);
    canvas.blit(x, top, enlarged(e.video[0], factor));
    canvas.draw_rect_outline(x - 1, top - 1, image_w + 2, image_h + 2, kFrameOutline);
    draw_lines(canvas, x, top + image_h + kGap, lines[i], e.kind == CompareEntry::Kind::kReference);
  }
  return canvas.image();
}

// Evenly spaced frame indices, first and last included, at most `count`.
std::vector<int> shown_frames(int frames, int count) {
  std::vector<int> shown;
  if (count >= frames) {
    for (int f = 0; f < frames; ++f) shown.push_back(f);
    return shown;
  }
  for (int i = 0; i < count; ++i) {
    shown.push_back(count == 1 ? 0 : static_cast<int>(static_cast<long long>(i) * (frames - 1) / (count - 1)));
  }
  return shown;
}

at::Tensor video_grid(const CompareRun& run) {
  const at::Tensor& first = run.entries.front().video;
  const int frames = static_cast<int>(first.size(0));
  const int factor = enlargement(static_cast<int>(first.size(1)), static_cast<int>(first.size(2)));
  const int frame_h = static_cast<int>(first.size(1)) * factor;
  const int frame_w = static_cast<int>(first.size(2)) * factor;
  const std::vector<int> shown = shown_frames(frames, std::max(1, kMaxStripWidth / (frame_w + kGap)));
  int panel_w = 0;
  std::vector<std::vector<std::string>> lines;
  for (const CompareEntry& e : run.entries) {
    lines.push_back(figure_lines(e));
    panel_w = std::max(panel_w, lines_width(lines.back(), kLabelScale));
  }
  const int note_h = Canvas::text_height(kNoteScale);
  const int row_h = std::max(frame_h + 2 + note_h,
                             static_cast<int>(lines.front().size()) * line_height());
  const auto title = title_lines(run);
  auto all_title = title;
  if (static_cast<int>(shown.size()) < frames) {
    all_title.push_back(fmt::format("{} of {} frames shown, evenly spaced", shown.size(), frames));
  }
  all_title.emplace_back("under each frame: frame number, PSNR dB of that frame");
  const int top = title_height(all_title);
  const int strip_x = kMargin + panel_w + kMargin;
  const int strip_w = static_cast<int>(shown.size()) * (frame_w + kGap) - kGap;
  const int n = static_cast<int>(run.entries.size());
  const int width = std::max(strip_x + strip_w + kMargin, 2 * kMargin + title_width(all_title));
  const int height = top + n * (row_h + kMargin);
  Canvas canvas(width, height, kBackground);
  draw_title(canvas, all_title);
  for (int i = 0; i < n; ++i) {
    const CompareEntry& e = run.entries[i];
    const int y = top + i * (row_h + kMargin);
    draw_lines(canvas, kMargin, y, lines[i], e.kind == CompareEntry::Kind::kReference);
    for (std::size_t s = 0; s < shown.size(); ++s) {
      const int f = shown[s];
      const int x = strip_x + static_cast<int>(s) * (frame_w + kGap);
      canvas.blit(x, y, enlarged(e.video[f], factor));
      canvas.draw_rect_outline(x - 1, y - 1, frame_w + 2, frame_h + 2, kFrameOutline);
      const std::string note = fmt::format("#{} {}", f, format_psnr(e.quality.psnr_db_per_frame[f]));
      canvas.draw_text(x, y + frame_h + 2, note, kDimText, kNoteScale);
    }
  }
  return canvas.image();
}

}  // namespace

at::Tensor draw_compare_grid(const CompareRun& run) {
  if (run.entries.empty()) throw std::invalid_argument("draw_compare_grid: no entries");
  return run.entries.front().video.size(0) > 1 ? video_grid(run) : image_grid(run);
}

}  // namespace sagegen::cli
