// The facts of each attention variant as one constant table: its numerics (QK bits, PV operand),
// where a CUDA kernel of it exists (minimum arch, kernel families per arch, dtypes, native head
// dims) and its default quantization granularity; and where `auto` prefers it over torch SDPA.
// The selector, the golden model, dispatch of `auto`, the calibrator's cost files and the names
// in YAML/CLI all read this table, so a fact is stated once (design.md section 2).
#pragma once

#include <cstdint>
#include <array>
#include <string_view>

#include "sageattn/types.h"

namespace sageattn {

// The PV operand of a variant's kernels.
enum class PvOperand : std::uint8_t {
  kFp8E4M3,  // P and V in FP8 E4M3, per-K-block products added into an FP32 buffer
  kFp16,     // P and V in FP16, FP32 accumulation
  kFull,     // no quantization (torch SDPA / FP32 on the CPU)
};

struct VariantFacts {
  Variant variant;
  std::string_view name;  // as in YAML, the CLI and logs
  int qk_bits;            // 8 (INT8), 4 (INT4); 0: QK^T is not quantized
  PvOperand pv;
  // The oldest CUDA arch (sm_80 -> 80) with a kernel; 0: no sagegen kernel (torch SDPA runs it
  // on every device), and why that arch is the floor, for error messages.
  int min_arch;
  std::string_view min_arch_why;
  // The arch with a wgmma (sm_90a) kernel of this variant; 0: mma.sync only. mma.sync kernels run
  // on every arch from min_arch on (on sm_90 too: FP8 as HMMA with conversions, INT4 emulated).
  int wgmma_arch;
  // Dtypes of q, k, v the kernels take: fp16 and bf16 (fp32 inputs run SDPA or the golden model).
  bool kernel_takes_half_and_bf16;
  // The head dims the kernels are instantiated for, ascending; a smaller head dim is zero-padded
  // to the next one, a larger one has no kernel. All 0 for variants without kernels.
  std::array<int, 2> native_head_dims;
  Granularity default_granularity;
};

inline constexpr std::array<int, 2> kKernelHeadDims = {64, 128};

// sage2-8b and sage2-4b default to per-thread scales (the official SageAttention2 default: it
// costs the kernels nothing and measured more accurate on outlier inputs, docs/numerics.md);
// sage1 to per-warp.
inline constexpr VariantFacts kVariantFacts[] = {
    {Variant::kSage2Int8, "sage2-8b", 8, PvOperand::kFp8E4M3, 89,
     "FP8 E4M3 mma.sync for PV; the FP16-PV form for sm_80 is not implemented", 90, true,
     kKernelHeadDims, Granularity::kPerThread},
    {Variant::kSage2Int4, "sage2-4b", 4, PvOperand::kFp8E4M3, 89,
     "FP8 E4M3 mma.sync for PV; the FP16-PV form for sm_80 is not implemented", 0, true,
     kKernelHeadDims, Granularity::kPerThread},
    {Variant::kSage1, "sage1", 8, PvOperand::kFp16, 80, "INT8 mma.sync", 0, true, kKernelHeadDims,
     Granularity::kPerWarp},
    {Variant::kFp16, "fp16", 0, PvOperand::kFull, 0, "", 0, false, {0, 0}, Granularity::kPerBlock},
};

// The row of a variant; nullptr for kAuto (it resolves to one of the rows first).
constexpr const VariantFacts* find_variant_facts(Variant v) {
  for (const VariantFacts& f : kVariantFacts) {
    if (f.variant == v) return &f;
  }
  return nullptr;
}
// The same, throwing c10::Error for kAuto.
const VariantFacts& variant_facts(Variant v);

// True when the variant quantizes (it has a golden model of its own and CUDA kernels).
constexpr bool is_quantized(Variant v) {
  const VariantFacts* f = find_variant_facts(v);
  return f != nullptr && f->qk_bits != 0;
}

// The native head dim a kernel of `v` pads head_dim to; 0 when none holds it (or `v` has no
// kernels).
constexpr int padded_head_dim(Variant v, std::int64_t head_dim) {
  const VariantFacts* f = find_variant_facts(v);
  if (f == nullptr) return 0;
  for (const int native : f->native_head_dims) {
    if (native != 0 && head_dim <= native) return native;
  }
  return 0;
}

// Where `auto` runs sage2-8b rather than torch SDPA (cuDNN) on an arch with measured costs: from
// this sequence length on (sqrt(L_q * L_k)), per head-dim class and mask. Measured whole calls
// (quantization included), bf16, B2 H24, sage2-8b and cuDNN in one process, two rounds
// (docs/benchmarks.md, 2026-12-01 thirteenth session, run 118 of docs/gpu-notes.md, NVIDIA H200,
// the persistent grid, the split producer and the programmatic launches; HND and NHD within 1% in
// run 70; configs/costs/sm90.yaml holds the L16384 figures as relative costs). cuDNN / sage2-8b
// time:
//   hd128 full:   L 2560 0.94 (582 vs 616 TOPS), L 3072 1.02 (676-677 vs 662-663), L 3584 1.12
//   hd128 causal: L 4096 0.97 (542-544 vs 558-559), L 4608 1.02 (584 vs 571), L 5120 1.05-1.06
//   hd64 full:    L 3072 0.97 (455-457 vs 467-472), L 3584 1.08 (486-488 vs 449-453)
//   hd64 causal:  L 5120 0.96, L 5632 0.98, L 6144 1.01 (435-437 vs 431-433)
// (hd128 moved from 3584 to 3072 and hd128 causal from 5120 to 4608 with the programmatic
// launches, thirteenth session: 1.00 and 0.95 there before; hd64 full from 4096 to 3584 with the
// split producer, twelfth session; hd64 causal stays at 6144.)
// An arch without rows has no measurement: there auto runs sage2-8b wherever its kernel runs.
struct AutoCrossover {
  int arch;
  int head_dim_class;  // the kernel's padded head dim: 64 or 128
  bool causal;
  std::int64_t min_len;  // sage2-8b from here on; kAutoNever: SDPA at every length
};
inline constexpr std::int64_t kAutoNever = INT64_MAX;
inline constexpr AutoCrossover kAutoCrossovers[] = {
    {90, 64, false, 3584},
    {90, 64, true, 6144},
    {90, 128, false, 3072},
    {90, 128, true, 4608},
};

// The measured crossover for an arch, head dim (any; classed by the kernel it pads to) and mask,
// or nullptr where none was measured.
const AutoCrossover* auto_crossover(int arch, std::int64_t head_dim, bool causal);

// Whether `auto` prefers sage2-8b to torch SDPA at this arch, head dim, sequence length
// (sqrt(L_q * L_k)) and mask, given that its kernel runs: false below a measured crossover,
// true from it on and on arches without measurements. The selector decides auto with it; the
// calibrator's cost files are checked against it (tests/pipelines, ArchCostsFile).
bool auto_prefers_sage2_int8(int arch, std::int64_t head_dim, double len, bool causal);

}  // namespace sageattn
