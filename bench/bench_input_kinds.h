// The input kinds the Hopper issue measures accuracy on (plain Gaussian, K channel bias, Q
// outlier channels, sharper logits, outlier Q tokens, outlier V tokens): one generator shared by
// the benchmark's accuracy table and the GPU kernel tests, so both see the same inputs.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sagegen::bench {

enum class InputKind {
  kGaussian,    // q, k, v ~ N(0, 1)
  kKBias,       // k + a per-channel bias ~ N(0, 4^2): what K smoothing removes
  kQChannels,   // 4 Q channels scaled by 10
  kSharp,       // q scaled by 3: logits 3x sharper, P nearly one-hot
  kQTokens,     // every 97th Q token scaled by 8
  kVTokens,     // every 211th V token scaled by 50
};

const std::vector<InputKind>& all_input_kinds();
std::string input_kind_name(InputKind kind);

struct QKV {
  at::Tensor q, k, v;
};

// The draw the documented accuracy table uses (benchmark --accuracy-cases and the GPU test).
inline constexpr uint64_t kInputKindsSeed = 20261130;

// [B, H, L, D] float32 on the CPU from `seed` (HND; callers transpose and cast).
QKV make_input_kind(InputKind kind, int64_t batch, int64_t heads, int64_t len, int64_t head_dim,
                    uint64_t seed);

}  // namespace sagegen::bench
