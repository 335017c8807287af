// How a training checkpoint names its tensors and files (docs/training.md, "The checkpoint").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "sagegen/io/safetensors.h"

namespace sagegen::train {

inline constexpr std::string_view kCheckpointFormat = "sagegen-train-checkpoint-v1";
// The resume pack (--export-resume): model.* and adam_v.* in BF16, small enough to travel
// between machines; the EMA restarts from the weights and AdamW's first moment from zero.
inline constexpr std::string_view kResumePackFormat = "sagegen-train-resume-v1";
inline constexpr std::string_view kModelPrefix = "model.";
inline constexpr std::string_view kEmaPrefix = "ema.";
inline constexpr std::string_view kAdamMeanPrefix = "adam_m.";
inline constexpr std::string_view kAdamSquarePrefix = "adam_v.";

// "checkpoint-00001000.safetensors": zero-padded so names sort by step.
std::string checkpoint_file_name(std::int64_t step);

// The weights under the model's own names, cast to BF16: what a model config's `weights:` loads.
void write_ema_bf16(const io::NamedTensors& ema, const std::filesystem::path& out,
                    const io::Metadata& metadata);

}  // namespace sagegen::train
