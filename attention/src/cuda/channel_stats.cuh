// Per-channel token statistics of K and V, the CTAs of one launch (quantize_q_and_stats.cu runs
// them beside Q's quantization): the K mean that K smoothing subtracts, and V's mean, FP8
// multiplier and output factor. One read of each input; every consumer then reads one finished
// value per channel.
//
// The sums are FP64 at every level (per thread, across lanes, across splits). An fp16/bf16
// value converts exactly, and a double holds the sum of thousands of them without rounding
// (docs/numerics.md, step 1), so the sum does not depend on the order of the additions and the
// mean, rounded to FP32 once, is the one the golden model computes bit for bit. In FP32 the
// kernel's order (per thread, then lanes, then splits) and the golden model's differ, their
// means differ in the last bit now and then, and one k - mean then rounds to another INT8 value.
#pragma once

#include <cuda_fp16.h>
#include <math_constants.h>

#include <cstdint>

#include "cuda/params.h"
#include "cuda/quantize_common.cuh"
#include "sageattn/tiles.h"

namespace sageattn::cuda {
namespace channel_stats_detail {

// The extrema of a token range (FP32: exact in any order); its sum travels apart, in FP64.
enum Extremum : int { kMax = 0, kMin = 1, kExtrema = 2 };

// The finished values of channel c from the reduced sum, max and min over all tokens.
// Centred, the absmax of x - mean is max(max - mean, mean - min): rounding is monotonic, so
// that is exactly the largest |fl(x - mean)|, what the golden model takes.
__device__ __forceinline__ void finish_channel(const ChannelStatsSource& s, const ChannelStatsParams& p,
                                               std::int64_t out, bool real, double sum,
                                               float top, float bottom) {
  // Divided in FP64, rounded to FP32 once: the golden model's formula (golden.cpp,
  // channel_mean). With 53 >= 2 * 24 + 2 bits the double rounding is harmless, so this is the
  // correctly rounded mean whenever the sum is exact.
  const float mean = static_cast<float>(sum / static_cast<double>(p.len));
  if (s.mean != nullptr) s.mean[out] = real ? mean : 0.0f;
  if (s.inv == nullptr && s.factor == nullptr) return;
  float a = s.centre ? fmaxf(top - mean, mean - bottom) : fmaxf(top, -bottom);
  if (!real) a = 0.0f;
  if (s.inv != nullptr) s.inv[out] = a > 0.0f ? kE4M3Max / a : 0.0f;
  if (s.factor != nullptr) {
    // kTimes448: P was scaled by 448 too; kExp2Offset8: its 2^8 cancels against l.
    s.factor[out] = p.p_scale == PScale::kTimes448 ? a / kE4M3Max / kE4M3Max : a / kE4M3Max;
  }
}

}  // namespace channel_stats_detail

// A CTA's shared memory, in a union with the other role's in a fused kernel.
template <int kDp>
struct ChannelStatsShared {
  static constexpr int kRowLanes = kQuantThreads / (kDp / kChannelsPerChunk);
  // 32 KiB for either kDp (kRowLanes * kDp is 2048): under the 48 KiB static limit.
  double lane_sum[kRowLanes][kDp];
  float lane_extrema[channel_stats_detail::kExtrema][kRowLanes][kDp];
  bool last_to_arrive;
};

// The CTA of token range (split) `split` of head h and bz = source * batch + b reduces that
// range; the last CTA of a (batch, head, source) to arrive reduces the splits in split order and
// writes the finished values. The fused kernel passes blockIdx.x, .y, .z unchanged.
//
// The arrival counters p.arrivals must be zero when the pass starts, and are zero again when it
// ends: each CTA arrives with atomicInc(counter, splits - 1), which wraps the counter to 0 on the
// splits-th arrival (the last CTA's). So counters owned by one stream, zeroed once, stay valid
// for every later pass on that stream (backend.cpp, arrival_counters).
template <int kDp>
__device__ __forceinline__ void channel_stats_cta(const ChannelStatsParams& p, int split, int h,
                                                  int bz, ChannelStatsShared<kDp>& smem) {
  using namespace channel_stats_detail;
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kRowLanes = ChannelStatsShared<kDp>::kRowLanes;
  auto& lane_sum = smem.lane_sum;
  auto& lane_extrema = smem.lane_extrema;
  bool& last_to_arrive = smem.last_to_arrive;
  // Unsigned division, as of blockIdx.z before this was a device function: the signed one
  // costs 13 more registers (90 instead of 77 on sm_90a).
  const int b = static_cast<unsigned>(bz) % p.batch, source = static_cast<unsigned>(bz) / p.batch;
  // A select, not p.src[source]: a runtime index into the kernel parameters costs a local copy.
  const ChannelStatsSource s = source == 0 ? p.src[0] : p.src[1];
  const int chunk = threadIdx.x % kChunks, lane_row = threadIdx.x / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const std::int64_t batch_heads = static_cast<std::int64_t>(p.batch) * p.heads;
  const auto* base = static_cast<const std::uint16_t*>(s.x) + b * s.stride_b + h * s.stride_h;

  double sum[kChannelsPerChunk];
  float top[kChannelsPerChunk], bottom[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) {
    sum[j] = 0.0;
    top[j] = -CUDART_INF_F;
    bottom[j] = CUDART_INF_F;
  }
  const int begin = split * p.rows_per_split;
  const int end = min(p.len, begin + p.rows_per_split);
  auto accumulate = [&](const uint4& raw) {
    float v[kChannelsPerChunk];
    unpack_chunk(raw, s.x_type, v);
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) {
      sum[j] += static_cast<double>(v[j]);
      top[j] = fmaxf(top[j], v[j]);
      bottom[j] = fminf(bottom[j], v[j]);
    }
  };
  // kBatch rows' loads in flight per thread before any is used; rows past `end` load as zeros
  // and are not accumulated, so the order of the sums is that of the tokens.
  constexpr int kBatch = 4;
  for (int token = begin + lane_row; token < end; token += kBatch * kRowLanes) {
    uint4 raw[kBatch];
#pragma unroll
    for (int i = 0; i < kBatch; ++i) {
      const int t = token + i * kRowLanes;
      raw[i] = load_raw_chunk(base + static_cast<std::int64_t>(t) * s.stride_l, t < end, c0,
                              p.head_dim, s.vector_loads);
    }
#pragma unroll
    for (int i = 0; i < kBatch; ++i) {
      if (token + i * kRowLanes < end) accumulate(raw[i]);
    }
  }
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) {
    lane_sum[lane_row][c0 + j] = sum[j];
    lane_extrema[kMax][lane_row][c0 + j] = top[j];
    lane_extrema[kMin][lane_row][c0 + j] = bottom[j];
  }
  __syncthreads();

  const std::int64_t first_split = (source * batch_heads + bh) * p.splits;
  double* const sum_partials = p.partial_sum + first_split * kDp;
  float* const extrema_partials = p.partial_extrema + first_split * (kExtrema * kDp);
  const int c = threadIdx.x;
  if (c < kDp) {
    double rs = 0.0;
    float rmax = -CUDART_INF_F, rmin = CUDART_INF_F;
    for (int r = 0; r < kRowLanes; ++r) {
      rs += lane_sum[r][c];
      rmax = fmaxf(rmax, lane_extrema[kMax][r][c]);
      rmin = fminf(rmin, lane_extrema[kMin][r][c]);
    }
    sum_partials[split * kDp + c] = rs;
    float* const mine = extrema_partials + split * (kExtrema * kDp);
    mine[kMax * kDp + c] = rmax;
    mine[kMin * kDp + c] = rmin;
  }
  // Publish this split's partials before counting it (the last CTA reads them from L2).
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    // Wraps to 0 on the last arrival: the counter is ready for the next pass.
    const unsigned last = static_cast<unsigned>(p.splits - 1);
    last_to_arrive = atomicInc(p.arrivals + source * batch_heads + bh, last) == last;
  }
  __syncthreads();
  if (!last_to_arrive || c >= kDp) return;
  __threadfence();
  double rs = 0.0;
  float rmax = -CUDART_INF_F, rmin = CUDART_INF_F;
  // Unrolled so that the L2 loads of several splits are in flight at once: this CTA is one of
  // the last to finish, and the kernel waits for it.
#pragma unroll 8
  for (int i = 0; i < p.splits; ++i) {
    const float* split_extrema = extrema_partials + i * (kExtrema * kDp);
    rs += __ldcg(sum_partials + i * kDp + c);
    rmax = fmaxf(rmax, __ldcg(split_extrema + kMax * kDp + c));
    rmin = fminf(rmin, __ldcg(split_extrema + kMin * kDp + c));
  }
  finish_channel(s, p, bh * kDp + c, c < p.head_dim, rs, rmax, rmin);
}

}  // namespace sageattn::cuda
