#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <string>

#include "checkpoint_names.h"
#include "sagegen/errors.h"
#include "sagegen/train/trainer.h"

namespace sagegen::train {
namespace {

namespace fs = std::filesystem;

// The step in "checkpoint-<digits>.safetensors", or nullopt for any other name.
std::optional<std::int64_t> step_of(const fs::path& file) {
  const std::string name = file.filename().string();
  const std::string prefix = "checkpoint-", suffix = ".safetensors";
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(digits);
}

}  // namespace

std::string checkpoint_file_name(std::int64_t step) {
  return fmt::format("checkpoint-{:08d}.safetensors", step);
}

void write_ema_bf16(const io::NamedTensors& ema, const fs::path& out, const io::Metadata& metadata) {
  io::NamedTensors weights;
  for (const auto& [name, tensor] : ema) weights[name] = tensor.detach().to(at::kCPU, at::kBFloat16);
  io::Metadata full = metadata;
  full["weights"] = "EMA of a sagegen training run, bf16";
  io::save_safetensors(out, weights, full);
  spdlog::info("train: EMA weights (bf16) written to {}", out.string());
}

fs::path find_checkpoint(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return path;
  if (!fs::is_directory(path, ec)) {
    throw ConfigError(fmt::format("--resume: '{}' is neither a checkpoint file nor a directory",
                                  path.string()));
  }
  std::optional<std::int64_t> best_step;
  fs::path best;
  for (const auto& entry : fs::directory_iterator(path)) {
    const auto step = step_of(entry.path());
    if (step && (!best_step || *step > *best_step)) {
      best_step = step;
      best = entry.path();
    }
  }
  if (!best_step) {
    throw ConfigError(fmt::format("--resume: no checkpoint-<step>.safetensors in '{}'", path.string()));
  }
  return best;
}

void export_ema_weights(const fs::path& checkpoint, const fs::path& out) {
  const io::SafetensorsFile file = io::SafetensorsFile::open(checkpoint);
  const auto format = file.metadata().find("format");
  if (format == file.metadata().end() || format->second != kCheckpointFormat) {
    throw ConfigError(fmt::format("{}: not a sagegen training checkpoint (metadata format "
                                  "should be '{}')", checkpoint.string(), kCheckpointFormat));
  }
  io::NamedTensors ema;
  for (const auto& info : file.tensors()) {
    if (info.name.rfind(kEmaPrefix, 0) == 0) {
      ema[info.name.substr(kEmaPrefix.size())] = file.read(info.name);
    }
  }
  if (ema.empty()) {
    throw ConfigError(fmt::format("{}: no '{}*' tensors", checkpoint.string(), kEmaPrefix));
  }
  io::Metadata metadata;
  for (const char* key : {"model", "step", "seed"}) {
    const auto it = file.metadata().find(key);
    if (it != file.metadata().end()) metadata[key] = it->second;
  }
  metadata["source"] = checkpoint.filename().string();
  write_ema_bf16(ema, out, metadata);
}

void export_resume_pack(const fs::path& checkpoint, const fs::path& out) {
  const io::SafetensorsFile file = io::SafetensorsFile::open(checkpoint);
  const auto format = file.metadata().find("format");
  if (format == file.metadata().end() || format->second != kCheckpointFormat) {
    throw ConfigError(fmt::format("{}: not a sagegen training checkpoint (metadata format "
                                  "should be '{}')", checkpoint.string(), kCheckpointFormat));
  }
  io::NamedTensors pack;
  for (const auto& info : file.tensors()) {
    if (info.name.rfind(kModelPrefix, 0) == 0 || info.name.rfind(kAdamSquarePrefix, 0) == 0) {
      pack[info.name] = file.read(info.name).to(at::kBFloat16);
    }
  }
  if (pack.empty()) {
    throw ConfigError(fmt::format("{}: no '{}*' tensors", checkpoint.string(), kModelPrefix));
  }
  io::Metadata metadata = file.metadata();
  metadata["format"] = std::string(kResumePackFormat);
  metadata["source"] = checkpoint.filename().string();
  metadata["contents"] = "model.* and adam_v.* in BF16 (no EMA, no adam_m: resuming restarts them)";
  io::save_safetensors(out, pack, metadata);
  spdlog::info("train: resume pack {} (step {})", out.string(), metadata["step"]);
}

}  // namespace sagegen::train
