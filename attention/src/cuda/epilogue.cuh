// The output step both attention kernel families end with: one thread's fragment of O,
// O = buf * (1 / l) * v_factor + v_mean, cast to the output dtype and stored through the
// output's strides. Every step is one FP32 rounding, in that order (docs/numerics.md step 7).
// Shaped for the short calls, where this step is a visible part of the kernel (H200, B2 H24
// hd128 L4096: ~12% of the warp time before 2026-11-30's sixth session):
// - one correctly rounded reciprocal per row instead of an IEEE division per element (a division
//   is a ten-instruction sequence with a slow path);
// - v_factor and v_mean read once per column pair for all the thread's rows, in batches ahead of
//   the stores (from shared memory where the kernel staged them, else through the read-only
//   path, whose loads cannot alias the output stores);
// - the output dtype and the store width chosen once per fragment, so the unrolled loop is one
//   basic block per choice.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "cuda/params.h"

namespace sageattn::cuda {

// 1 / l, correctly rounded: the golden model's at::reciprocal.
__device__ __forceinline__ float output_row_scale(float l) { return __frcp_rn(l); }

// O of one element from its accumulator value: (acc * (1 / l)) * factor + mean, each step one
// FP32 rounding in the golden model's order. The explicit _rn operations keep every multiply and
// add apart (never contracted into an FMA). Both output paths of the wgmma kernel use it.
__device__ __forceinline__ float output_value(float acc, float inv_l, float factor, float mean) {
  return __fadd_rn(__fmul_rn(__fmul_rn(acc, inv_l), factor), mean);
}

// Two adjacent channels of O cast to the output dtype (round to nearest), as the 32-bit word a
// pair store writes: the first channel in the low half.
template <typename Out>
__device__ __forceinline__ std::uint32_t output_pair_bits(float x0, float x1) {
  if constexpr (std::is_same_v<Out, __nv_bfloat16>) {
    const __nv_bfloat162 pair = __floats2bfloat162_rn(x0, x1);
    return *reinterpret_cast<const std::uint32_t*>(&pair);
  } else {
    const __half2 pair = __floats2half2_rn(x0, x1);
    return *reinterpret_cast<const std::uint32_t*>(&pair);
  }
}

// v_factor and v_mean of a head read from global memory through the read-only path; a null
// pointer reads as the golden model's ones (factor) and zeros (mean).
struct GlobalChannels {
  const float* __restrict__ factor;
  const float* __restrict__ mean;
  __device__ __forceinline__ float factor_at(int c) const { return factor ? __ldg(factor + c) : 1.0f; }
  __device__ __forceinline__ float mean_at(int c) const { return mean ? __ldg(mean + c) : 0.0f; }
};

// The same values staged in shared memory by the kernel (has_* false: not staged, ones / zeros).
struct SharedChannels {
  const float* factor;
  const float* mean;
  bool has_factor, has_mean;
  __device__ __forceinline__ float factor_at(int c) const { return has_factor ? factor[c] : 1.0f; }
  __device__ __forceinline__ float mean_at(int c) const { return has_mean ? mean[c] : 0.0f; }
};

// One thread's rows of O (kRows of them, rows whose index is past len_q marked invalid) and its
// column pairs c = 8 * j + 2 * t for j < kPairs. value(r, j, e) is the accumulator of row r,
// channel c + e. inv_l[r] = output_row_scale(l of row r); out_off[r] = the row's element offset.
template <int kRows, int kPairs, typename Channels, typename Value>
struct OutputFragment {
  const AttentionParams& p;
  const std::int64_t (&out_off)[kRows];
  const bool (&row_valid)[kRows];
  const float (&inv_l)[kRows];
  int t;
  Channels channels;
  Value value;

  // Column pairs whose factor and mean are all loaded before the first of them is stored: the
  // loads then overlap each other instead of each waiting behind the previous pair's stores.
  static constexpr int kLoadBatch = kPairs < 8 ? kPairs : 8;

  template <typename Out, bool kPairStores>
  __device__ __forceinline__ void store_as() const {
    auto* const out = static_cast<Out*>(p.out);
#pragma unroll
    for (int j0 = 0; j0 < kPairs; j0 += kLoadBatch) {
      float f[kLoadBatch][2], m[kLoadBatch][2];
#pragma unroll
      for (int jj = 0; jj < kLoadBatch; ++jj) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int c = 8 * (j0 + jj) + 2 * t + e;
          f[jj][e] = c < p.head_dim ? channels.factor_at(c) : 1.0f;
          m[jj][e] = c < p.head_dim ? channels.mean_at(c) : 0.0f;
        }
      }
#pragma unroll
      for (int jj = 0; jj < kLoadBatch; ++jj) {
        const int j = j0 + jj;
        const int c = 8 * j + 2 * t;
        if (c >= p.head_dim) continue;
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
          if (!row_valid[r]) continue;
          float x[2];
#pragma unroll
          for (int e = 0; e < 2; ++e) x[e] = output_value(value(r, j, e), inv_l[r], f[jj][e], m[jj][e]);
          Out* const dst = out + out_off[r] + c;
          if constexpr (kPairStores) {
            // head_dim and the strides are even: one aligned 32-bit store.
            *reinterpret_cast<std::uint32_t*>(dst) = output_pair_bits<Out>(x[0], x[1]);
          } else {
            dst[0] = convert<Out>(x[0]);
            if (c + 1 < p.head_dim) dst[1] = convert<Out>(x[1]);
          }
        }
      }
    }
  }

  template <typename Out>
  __device__ __forceinline__ static Out convert(float x) {
    if constexpr (std::is_same_v<Out, __nv_bfloat16>) {
      return __float2bfloat16_rn(x);
    } else {
      return __float2half_rn(x);
    }
  }

  __device__ __forceinline__ void store() const {
    const bool pair_stores =
        ((p.head_dim | p.out_stride_l | p.out_stride_h | p.out_stride_b) & 1) == 0;
    if (p.out_type == ElemType::kBf16) {
      pair_stores ? store_as<__nv_bfloat16, true>() : store_as<__nv_bfloat16, false>();
    } else {
      pair_stores ? store_as<__half, true>() : store_as<__half, false>();
    }
  }
};

template <int kRows, int kPairs, typename Channels, typename Value>
__device__ __forceinline__ void store_output_fragment(const AttentionParams& p,
                                                      const std::int64_t (&out_off)[kRows],
                                                      const bool (&row_valid)[kRows],
                                                      const float (&inv_l)[kRows], int t,
                                                      Channels channels, Value value) {
  OutputFragment<kRows, kPairs, Channels, Value>{p, out_off, row_valid, inv_l, t, channels, value}
      .store();
}

}  // namespace sageattn::cuda
