#include "bench_input_kinds.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace sagegen::bench {

const std::vector<InputKind>& all_input_kinds() {
  static const std::vector<InputKind> kinds{InputKind::kGaussian, InputKind::kKBias,
                                            InputKind::kQChannels, InputKind::kSharp,
                                            InputKind::kQTokens,   InputKind::kVTokens};
  return kinds;
}

std::string input_kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::kGaussian:
      return "gaussian";
    case InputKind::kKBias:
      return "k-channel-bias";
    case InputKind::kQChannels:
      return "q-channels-x10";
    case InputKind::kSharp:
      return "logits-x3";
    case InputKind::kQTokens:
      return "q-token97-x8";
    case InputKind::kVTokens:
      return "v-token211-x50";
  }
  return "unknown";
}

QKV make_input_kind(InputKind kind, int64_t batch, int64_t heads, int64_t len, int64_t head_dim,
                    uint64_t seed) {
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  QKV x;
  x.q = at::randn({batch, heads, len, head_dim}, gen, f32);
  x.k = at::randn({batch, heads, len, head_dim}, gen, f32);
  x.v = at::randn({batch, heads, len, head_dim}, gen, f32);
  const at::Tensor tokens = at::arange(len, f32.dtype(at::kLong));
  switch (kind) {
    case InputKind::kGaussian:
      break;
    case InputKind::kKBias:
      x.k = x.k + 4.0 * at::randn({head_dim}, gen, f32);
      break;
    case InputKind::kQChannels:
      x.q.narrow(3, 0, 4).mul_(10.0);
      break;
    case InputKind::kSharp:
      x.q.mul_(3.0);
      break;
    case InputKind::kQTokens:
      x.q.mul_(at::where((tokens % 97 == 0).view({1, 1, len, 1}), 8.0, 1.0));
      break;
    case InputKind::kVTokens:
      x.v.mul_(at::where((tokens % 211 == 0).view({1, 1, len, 1}), 50.0, 1.0));
      break;
  }
  return x;
}

}  // namespace sagegen::bench
