// The merge of a tile's key splits (sageattn/tiles.h KeySplit; docs/kernels.md, "The last
// wave"): each CTA of a split tile ends its block loops with a partial (O, m, l) of its keys in
// its consumers' registers. It writes them to global memory; the last CTA of the tile to finish
// reads every split's partial back, in split order whichever finished first, so the result does
// not depend on the arrival order, and goes on to the ordinary epilogue with the merged values.
#pragma once

#include <cuda_runtime.h>
#include <math_constants.h>

#include <cstdint>

#include "cuda/mma.cuh"
#include "cuda/wgmma.cuh"

namespace sageattn::cuda {

// One split's partial of one tile: kOValues / 4 float4 of O per consumer thread, then
// (m_row0, m_row1, l_row0, l_row1); chunk c of consumer thread i at float4 c * kThreads + i, so
// each chunk is one coalesced 16-byte store per thread.
template <int kOValues, int kConsumerThreads>
struct KeySplitPartial {
  static_assert(kOValues % 4 == 0, "O is stored in float4 chunks");
  static constexpr int kChunks = kOValues / 4 + 1;
  static constexpr int kFloat4s = kChunks * kConsumerThreads;
};

// Called by every consumer thread (thread = its index among the consumers) after the block
// loops. tile_partials: the tile's `splits` partials; counter: the tile's count of finished
// splits (zero before the launch, and left zero: arrival_counters.h); flag: the shared address of
// one word. Returns false in every CTA but the last, which gets o, row_max and row_sum merged over
// the splits:
//   m = max_s m_s, w_s = exp2(m_s - m) (0 for a split without a key of the row),
//   O = sum_s w_s O_s, l = sum_s w_s l_s, summed in split order from zero with one FMA each.
template <int kOValues, int kConsumerThreads>
__device__ __forceinline__ bool merge_key_splits(float4* tile_partials, unsigned* counter,
                                                 int split, int splits, int thread, int barrier,
                                                 std::uint32_t flag, float (&o)[kOValues],
                                                 float (&row_max)[2], float (&row_sum)[2]) {
  using Partial = KeySplitPartial<kOValues, kConsumerThreads>;
  constexpr int kLast = Partial::kChunks - 1;
  float4* const mine = tile_partials + split * Partial::kFloat4s + thread;
#pragma unroll
  for (int c = 0; c < kOValues / 4; ++c) {
    __stcg(mine + c * kConsumerThreads,
           make_float4(o[4 * c], o[4 * c + 1], o[4 * c + 2], o[4 * c + 3]));
  }
  __stcg(mine + kLast * kConsumerThreads,
         make_float4(row_max[0], row_max[1], row_sum[0], row_sum[1]));
  // Publish this split's partial before counting it (the last CTA reads it from L2), as the
  // statistics pass does (channel_stats.cuh).
  __threadfence();
  wgmma::named_barrier_sync(barrier, kConsumerThreads);
  if (thread == 0) {
    // Wraps to 0 on the last arrival: the stream's counter is ready for the next launch.
    const unsigned last = static_cast<unsigned>(splits - 1);
    wgmma::shared_store(flag, atomicInc(counter, last) == last);
  }
  wgmma::named_barrier_sync(barrier, kConsumerThreads);
  if (wgmma::shared_load(flag) == 0) return false;
  __threadfence();

  const float4* const partials = tile_partials + thread;
  float m[2] = {-CUDART_INF_F, -CUDART_INF_F};
  for (int s = 0; s < splits; ++s) {
    const float4 ml = __ldcg(partials + s * Partial::kFloat4s + kLast * kConsumerThreads);
    m[0] = fmaxf(m[0], ml.x);
    m[1] = fmaxf(m[1], ml.y);
  }
  // A row no split saw a key of keeps -inf and sums nothing (O = 0, l = 0), as unsplit.
  const float m_safe[2] = {m[0] == -CUDART_INF_F ? 0.0f : m[0],
                           m[1] == -CUDART_INF_F ? 0.0f : m[1]};
#pragma unroll
  for (int i = 0; i < kOValues; ++i) o[i] = 0.0f;
  row_sum[0] = row_sum[1] = 0.0f;
  for (int s = 0; s < splits; ++s) {
    const float4* const part = partials + s * Partial::kFloat4s;
    const float4 ml = __ldcg(part + kLast * kConsumerThreads);
    // ex2.approx(-inf) = +0: a split without a key of the row weighs nothing.
    const float w[2] = {ptx::fast_exp2(ml.x - m_safe[0]), ptx::fast_exp2(ml.y - m_safe[1])};
    row_sum[0] = fmaf(ml.z, w[0], row_sum[0]);
    row_sum[1] = fmaf(ml.w, w[1], row_sum[1]);
#pragma unroll
    for (int c = 0; c < kOValues / 4; ++c) {
      // Accumulator element 4 c + e belongs to row half e / 2 (row g or g + 8).
      const float4 x = __ldcg(part + c * kConsumerThreads);
      o[4 * c] = fmaf(x.x, w[0], o[4 * c]);
      o[4 * c + 1] = fmaf(x.y, w[0], o[4 * c + 1]);
      o[4 * c + 2] = fmaf(x.z, w[1], o[4 * c + 2]);
      o[4 * c + 3] = fmaf(x.w, w[1], o[4 * c + 3]);
    }
  }
  row_max[0] = m[0];
  row_max[1] = m[1];
  return true;
}

}  // namespace sageattn::cuda
