#include "kernel_case.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <limits>
#include <sstream>

namespace sagegen::kernel_tests {
namespace {

using sageattn::Layout;
using sageattn::Variant;

// Guard elements on each side of every input; 256 bf16 = 512 bytes keeps the tensors' start
// 16-byte aligned as the kernels' vector loads need.
constexpr int64_t kGuardElements = 256;

std::string variant_token(Variant v) {
  std::string name(sageattn::to_string(v));
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

at::Tensor guarded_buffer(int64_t numel, const at::TensorOptions& options) {
  return at::full({numel + 2 * kGuardElements}, std::numeric_limits<float>::quiet_NaN(), options);
}

at::Tensor view_inside(const at::Tensor& buffer, at::IntArrayRef shape) {
  int64_t numel = 1;
  for (const int64_t size : shape) numel *= size;
  return buffer.narrow(0, kGuardElements, numel).view(shape);
}

bool guards_nan(const at::Tensor& buffer) {
  const int64_t n = buffer.numel();
  return at::isnan(buffer.narrow(0, 0, kGuardElements)).all().item<bool>() &&
         at::isnan(buffer.narrow(0, n - kGuardElements, kGuardElements)).all().item<bool>();
}

}  // namespace

std::string KernelCase::name() const {
  std::ostringstream s;
  s << variant_token(variant) << '_' << (dtype == at::kBFloat16 ? "bf16" : "fp16") << '_'
    << sageattn::to_string(layout) << "_B" << batch << "_H" << heads_q << 'x' << heads_kv
    << "_Lq" << len_q << "_Lk" << len_k << "_D" << head_dim << (causal ? "_causal" : "_full")
    << (smooth_q ? "_smoothq" : "") << (smooth_v ? "_smoothv" : "");
  if (family != sageattn::KernelFamily::kAuto) s << '_' << sageattn::to_string(family);
  return s.str();
}

void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.name(); }

KernelCase shaped_case(int64_t batch, int64_t heads_q, int64_t heads_kv, int64_t len_q,
                       int64_t len_k, int64_t head_dim, bool causal, at::ScalarType dtype,
                       sageattn::Layout layout) {
  KernelCase c;
  c.dtype = dtype;
  c.layout = layout;
  c.batch = batch;
  c.heads_q = heads_q;
  c.heads_kv = heads_kv;
  c.len_q = len_q;
  c.len_k = len_k;
  c.head_dim = head_dim;
  c.causal = causal;
  return c;
}

sageattn::AttentionOptions KernelCase::options() const {
  sageattn::AttentionOptions options;
  options.variant = variant;
  options.engine = sageattn::Engine::kKernel;
  options.layout = layout;
  options.causal = causal;
  if (smooth_q) options.smooth_q = true;
  options.smooth_v = smooth_v;
  options.kernel_family = family;
  return options;
}

std::vector<KernelCase> all_kernel_cases() {
  std::vector<KernelCase> cases;
  const Variant variants[] = {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1,
                              Variant::kFp16};
  for (const Variant variant : variants) {
    auto add = [&](int64_t b, int64_t hq, int64_t hkv, int64_t lq, int64_t lk, int64_t d,
                   bool causal, at::ScalarType dtype = at::kBFloat16,
                   Layout layout = Layout::kHND) {
      cases.push_back({variant, dtype, layout, b, hq, hkv, lq, lk, d, causal});
    };
    // Lengths that do and don't line up with the 128-row Q and 64-key K tiles.
    for (const int64_t len : {1, 75, 113, 1000, 4096}) add(2, 2, 2, len, len, 128, false);
    for (const int64_t len : {75, 1000, 4096}) add(1, 2, 2, len, len, 128, true);
    add(1, 1, 1, 32768, 32768, 128, false);
    add(1, 1, 1, 32768, 32768, 128, true);
    // Lq != Lk, both ways, causal too (top-left aligned like torch SDPA).
    add(1, 2, 2, 75, 1000, 128, false);
    add(1, 2, 2, 1000, 113, 128, false);
    add(1, 2, 2, 1, 4096, 128, false);
    add(1, 2, 2, 113, 1000, 128, true);
    add(1, 2, 2, 1000, 75, 128, true);
    // GQA: 4 query heads per KV head.
    add(1, 8, 2, 1000, 1000, 128, false);
    add(1, 8, 2, 113, 113, 64, true);
    // Causal over more heads than one group of the wgmma kernel's causal order (8): a whole
    // group and a partial one.
    add(2, 6, 3, 1000, 1000, 128, true);
    // NHD and fp16.
    add(2, 2, 2, 1000, 1000, 128, false, at::kBFloat16, Layout::kNHD);
    add(1, 4, 2, 113, 1000, 64, true, at::kBFloat16, Layout::kNHD);
    add(2, 2, 2, 1000, 1000, 128, false, at::kHalf);
    add(1, 2, 2, 4096, 4096, 64, true, at::kHalf);
    add(1, 2, 2, 75, 75, 128, false, at::kHalf, Layout::kNHD);
    // Head dims: the native 64 and 128, and narrower ones zero-padded to them. Above 128 no
    // quantized kernel exists (KernelApi.HeadDimAbove128 checks the routes); SDPA takes it.
    for (const int64_t d : {64, 72, 96}) add(1, 2, 2, 1000, 1000, d, false);
    // Q smoothing where the variant leaves it off by default: the kernels' delta_s path.
    if (variant == Variant::kSage2Int8 || variant == Variant::kSage1) {
      auto add_smoothed = [&](int64_t hq, int64_t hkv, int64_t len, int64_t d, bool causal) {
        add(1, hq, hkv, len, len, d, causal);
        cases.back().smooth_q = true;
      };
      add_smoothed(2, 2, 1000, 128, false);
      add_smoothed(2, 2, 4096, 128, true);
      add_smoothed(8, 2, 113, 64, true);
      add_smoothed(2, 2, 1000, 64, false);
    }
    // V smoothing: the FP8 operand of the centred V (sage2) and the fp16 one (sage1).
    if (variant != Variant::kFp16) {
      add(2, 2, 2, 1000, 1000, 128, false);
      cases.back().smooth_v = true;
      add(1, 8, 2, 75, 113, 64, true, at::kHalf, Layout::kNHD);
      cases.back().smooth_v = true;
    }
    // The two-consumer wgmma tiles (sm_90 only; elsewhere the selector refuses the family and
    // the tests skip): lengths off the tiles, causal, GQA, hd64, and the delta_s path.
    if (variant == Variant::kSage2Int8) {
      auto add_wgmma2 = [&](int64_t hq, int64_t hkv, int64_t lq, int64_t lk, int64_t d, bool causal,
                            bool smooth_q) {
        add(1, hq, hkv, lq, lk, d, causal);
        cases.back().family = sageattn::KernelFamily::kWgmma2;
        cases.back().smooth_q = smooth_q;
      };
      add_wgmma2(2, 2, 1000, 1000, 128, false, false);
      add_wgmma2(2, 2, 4096, 4096, 128, true, false);
      add_wgmma2(8, 2, 113, 1000, 64, true, false);
      add_wgmma2(2, 2, 1000, 1000, 128, false, true);
      // How the wgmma kernel stores O depends on the output's row size: through TMA when
      // head_dim * 2 bytes is a multiple of 16 (every case above; 40: one clipped box at Dp 64),
      // per-thread stores otherwise (100: pair stores; 37: scalar ones).
      add(1, 3, 3, 500, 500, 40, true, at::kHalf, Layout::kNHD);
      add(1, 2, 2, 1000, 1000, 100, false);
      add(1, 2, 2, 113, 113, 37, true, at::kHalf, Layout::kNHD);
    }
    if (variant == Variant::kFp16) {
      add(1, 2, 2, 1000, 1000, 256, false);
      add(1, 2, 2, 113, 113, 256, true);
    }
  }
  return cases;
}

GuardedInputs make_guarded_inputs(const KernelCase& c, uint64_t seed, c10::Device device) {
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto cpu_float = at::TensorOptions().dtype(at::kFloat);
  const bool hnd = c.layout == Layout::kHND;
  auto shape = [&](int64_t heads, int64_t len) {
    return hnd ? std::vector<int64_t>{c.batch, heads, len, c.head_dim}
               : std::vector<int64_t>{c.batch, len, heads, c.head_dim};
  };
  const auto q_shape = shape(c.heads_q, c.len_q);
  const auto kv_shape = shape(c.heads_kv, c.len_k);
  // Channel vectors broadcast over the last dim in either layout.
  const int64_t outliers = std::max<int64_t>(1, c.head_dim / 32);
  const at::Tensor channel = at::arange(c.head_dim, cpu_float.dtype(at::kLong));
  const at::Tensor outlier_channel = (channel % (c.head_dim / outliers) == 3).to(at::kFloat);

  at::Tensor q = at::randn(q_shape, gen, cpu_float) * (1.0 + 5.0 * outlier_channel);
  at::Tensor k = at::randn(kv_shape, gen, cpu_float) + 2.0 * at::randn({c.head_dim}, gen, cpu_float) +
                 12.0 * outlier_channel;
  at::Tensor v = at::randn(kv_shape, gen, cpu_float) * (1.0 + 4.0 * outlier_channel) +
                 3.0 * outlier_channel;

  const auto device_options = at::TensorOptions().device(device).dtype(c.dtype);
  GuardedInputs in;
  in.q_buffer = guarded_buffer(q.numel(), device_options);
  in.k_buffer = guarded_buffer(k.numel(), device_options);
  in.v_buffer = guarded_buffer(v.numel(), device_options);
  in.q = view_inside(in.q_buffer, q_shape);
  in.k = view_inside(in.k_buffer, kv_shape);
  in.v = view_inside(in.v_buffer, kv_shape);
  in.q.copy_(q);
  in.k.copy_(k);
  in.v.copy_(v);
  in.q_copy = in.q.clone();
  in.k_copy = in.k.clone();
  in.v_copy = in.v.clone();
  return in;
}

std::string check_inputs_untouched(const GuardedInputs& in) {
  std::string problems;
  if (!guards_nan(in.q_buffer)) problems += "q's guard region was written; ";
  if (!guards_nan(in.k_buffer)) problems += "k's guard region was written; ";
  if (!guards_nan(in.v_buffer)) problems += "v's guard region was written; ";
  if (!at::equal(in.q, in.q_copy)) problems += "q was modified; ";
  if (!at::equal(in.k, in.k_copy)) problems += "k was modified; ";
  if (!at::equal(in.v, in.v_copy)) problems += "v was modified; ";
  return problems;
}

}  // namespace sagegen::kernel_tests
