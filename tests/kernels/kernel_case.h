// One GPU kernel test case (the ggml test-backend-ops pattern): a parameter struct with a
// printable name, the case lists, and inputs built the way the kernels are stressed: random with
// outlier channels, inside NaN guard regions so any read past a tensor's end shows in the output.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sageattn/types.h"

namespace sagegen::kernel_tests {

struct KernelCase {
  sageattn::Variant variant = sageattn::Variant::kSage2Int8;
  at::ScalarType dtype = at::kBFloat16;
  sageattn::Layout layout = sageattn::Layout::kHND;
  int64_t batch = 1;
  int64_t heads_q = 2;
  int64_t heads_kv = 2;
  int64_t len_q = 128;
  int64_t len_k = 128;
  int64_t head_dim = 128;
  bool causal = false;
  // Q smoothing forced on (delta_s, the kernels' second score path); false: the variant's default.
  bool smooth_q = false;
  // V smoothing on (off by default for every variant): channel_stats' centred absmax and the
  // V mean the epilogue adds back.
  bool smooth_v = false;
  // The kernel family asked for (kAuto: the selector's choice; kWgmma2: the two-consumer wgmma
  // tiles, 128-row Q blocks).
  sageattn::KernelFamily family = sageattn::KernelFamily::kAuto;

  // "sage2_8b_bf16_HND_B1_H8x2_Lq75_Lk1000_D128_causal[_smoothq][_smoothv][_wgmma2]": a valid
  // gtest name, greppable.
  std::string name() const;
  sageattn::AttentionOptions options() const;  // engine kKernel: never the golden model
};

// gtest prints parameters through this: the name instead of the struct's bytes.
void PrintTo(const KernelCase& c, std::ostream* os);

// A sage2-8b case of this shape (the other fields at their defaults).
KernelCase shaped_case(int64_t batch, int64_t heads_q, int64_t heads_kv, int64_t len_q,
                       int64_t len_k, int64_t head_dim, bool causal, at::ScalarType dtype,
                       sageattn::Layout layout);

// Every variant x the shapes the issue lists: lengths 1, 75, 113, 1000, 4096, 32768;
// Lq != Lk; GQA; causal; HND and NHD; fp16 and bf16; head dims 64, 72, 96, 128, 256.
std::vector<KernelCase> all_kernel_cases();

struct GuardedInputs {
  at::Tensor q, k, v;                      // views into the guarded buffers
  at::Tensor q_buffer, k_buffer, v_buffer;  // [guard | tensor | guard], guards NaN
  at::Tensor q_copy, k_copy, v_copy;        // clones, to prove the kernel left its inputs alone
};

// Fresh random inputs on `device` from `seed`. Q has a few channels scaled up, K a per-channel
// offset with a few large ones (the outliers smoothing exists for), V a few wide channels.
GuardedInputs make_guarded_inputs(const KernelCase& c, uint64_t seed,
                                  c10::Device device = c10::kCUDA);

// Guards still NaN and q, k, v unchanged; an empty string when so, else what differs.
std::string check_inputs_untouched(const GuardedInputs& in);

}  // namespace sagegen::kernel_tests
