// Q/K quantization one warp per slice of rows, where every scale group lies inside the slice:
// Q with per-thread or per-warp groups (a slice = warp_q rows) and no block mean, K blocks
// (a slice = block_k keys; per-warp is per-block for K). No shared memory and no block-wide
// barrier, so many slices are in flight per SM and the pass runs near memory speed; the
// block-wide kernel in quantize.cu keeps the cases that need a whole Q block (its mean for Q
// smoothing, per-block Q groups). Same arithmetic as that kernel: the groups, absmax, inverse
// and rounding of numerics.md step 3.
#include <cstdint>

#include "cuda/launch.h"
#include "cuda/quantize_common.cuh"
#include "sageattn/tiles.h"

namespace sageattn::cuda {
namespace {

constexpr int kSliceWarps = kQuantThreads / 32;

// Lane = lane_row * kChunks + chunk: kChunks lanes cover one row's Dp channels, kLaneRows rows
// at a time. Row r of the slice is in thread group r % 8, so a lane's rows lane_row + kLaneRows * i
// fall in kLaneGroups groups, the i-th in local group i % kLaneGroups.
template <int kDp, int kSliceRows>
__global__ void __launch_bounds__(kQuantThreads) quantize_slices_kernel(const QuantRowsParams p) {
  constexpr int kChunks = kDp / kChannelsPerChunk;
  constexpr int kLaneRows = 32 / kChunks;
  constexpr int kRowsPerLane = kSliceRows / kLaneRows;
  constexpr int kLaneGroups = kThreadGroups / kLaneRows;
  // Up to 8 row chunks stay in registers between the absmax and the rounding; longer slices
  // (K blocks) read their rows again, from L2.
  constexpr bool kKeep = kRowsPerLane <= 8;
  static_assert(kSliceRows % kThreadGroups == 0 && kThreadGroups % kLaneRows == 0, "slice shape");

  const int lane = threadIdx.x % 32;
  const int slice = blockIdx.x * kSliceWarps + threadIdx.x / 32;
  const int slices = p.len_pad / kSliceRows;
  if (slice >= slices) return;
  const int h = blockIdx.y, b = blockIdx.z;
  const int chunk = lane % kChunks, lane_row = lane / kChunks;
  const int c0 = chunk * kChannelsPerChunk;
  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads + h;
  const auto* base = static_cast<const std::uint16_t*>(p.x) + b * p.stride_b + h * p.stride_h;
  const int row0 = slice * kSliceRows;

  float mean[kChannelsPerChunk];
#pragma unroll
  for (int j = 0; j < kChannelsPerChunk; ++j) {
    const int c = c0 + j;
    mean[j] = p.mean_source == MeanSource::kPartialSums && c < p.head_dim
                  ? mean_from_sums(p.mean_sums, p.mean_splits, bh, p.batch * p.heads, p.head_dim,
                                   p.len, c)
                  : 0.0f;
  }
  auto load_row = [&](int i, float (&v)[kChannelsPerChunk]) {
    const int token = row0 + lane_row + i * kLaneRows;
    const bool valid = token < p.len;
    load_chunk(base + static_cast<std::int64_t>(token) * p.stride_l, valid, c0, p.head_dim,
               p.vector_loads, p.x_type, v);
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) v[j] = valid ? v[j] - mean[j] : 0.0f;
  };

  // Visits the lane's rows in steps of kLaneGroups (one row of each local group), so the group
  // index is a compile-time constant: fully unrolled when the rows stay in registers, 4 steps
  // at a time for a long slice (enough loads in flight to stream).
  auto for_rows = [&](auto&& visit) {
    if constexpr (kKeep) {
#pragma unroll
      for (int i0 = 0; i0 < kRowsPerLane; i0 += kLaneGroups)
#pragma unroll
        for (int g = 0; g < kLaneGroups; ++g) visit(i0 + g, g);
    } else {
#pragma unroll 4
      for (int i0 = 0; i0 < kRowsPerLane; i0 += kLaneGroups)
#pragma unroll
        for (int g = 0; g < kLaneGroups; ++g) visit(i0 + g, g);
    }
  };

  float kept[kKeep ? kRowsPerLane : 1][kChannelsPerChunk];
  float amax[kLaneGroups];
#pragma unroll
  for (int g = 0; g < kLaneGroups; ++g) amax[g] = 0.0f;
  for_rows([&](int i, int g) {
    float v[kChannelsPerChunk];
    load_row(i, v);
#pragma unroll
    for (int j = 0; j < kChannelsPerChunk; ++j) amax[g] = fmaxf(amax[g], fabsf(v[j]));
    if constexpr (kKeep) {
#pragma unroll
      for (int j = 0; j < kChannelsPerChunk; ++j) kept[i][j] = v[j];
    }
  });
  // Over the row's chunks (lanes of one lane_row), then, unless per-thread, over everything.
#pragma unroll
  for (int g = 0; g < kLaneGroups; ++g) {
#pragma unroll
    for (int offset = 1; offset < kChunks; offset *= 2) {
      amax[g] = fmaxf(amax[g], __shfl_xor_sync(0xffffffffu, amax[g], offset));
    }
  }
  if (p.groups != ScaleGroups::kPerThread) {
    float all = 0.0f;
#pragma unroll
    for (int g = 0; g < kLaneGroups; ++g) all = fmaxf(all, amax[g]);
#pragma unroll
    for (int offset = kChunks; offset < 32; offset *= 2) {
      all = fmaxf(all, __shfl_xor_sync(0xffffffffu, all, offset));
    }
#pragma unroll
    for (int g = 0; g < kLaneGroups; ++g) amax[g] = all;
  }

  const int qmax = p.bits == QkBits::kInt8 ? kInt8Max : kInt4Max;
  const float qmax_f = static_cast<float>(qmax);
  float inv[kLaneGroups];
#pragma unroll
  for (int g = 0; g < kLaneGroups; ++g) {
    inv[g] = amax[g] > 0.0f ? qmax_f / amax[g] : 0.0f;
    // Thread group lane_row + kLaneRows * g of this slice: stored expanded, 8 per slice.
    if (chunk == 0) {
      p.scale[(bh * slices + slice) * kThreadGroups + lane_row + kLaneRows * g] =
          (amax[g] / qmax_f) * p.scale_mult;
    }
  }

  const int row_bytes = p.bits == QkBits::kInt8 ? kDp : kDp / 2;
  for_rows([&](int i, int g) {
    float v[kChannelsPerChunk];
    if constexpr (kKeep) {
#pragma unroll
      for (int j = 0; j < kChannelsPerChunk; ++j) v[j] = kept[i][j];
    } else {
      load_row(i, v);
    }
    const int row = row0 + lane_row + i * kLaneRows;
    store_quantized_chunk(p.out + (bh * p.len_pad + row) * row_bytes, c0, v, inv[g], qmax, p.bits);
  });
}

template <int kSliceRows>
void launch_slices(const QuantRowsParams& p, int dp, cudaStream_t stream) {
  const int slices = p.len_pad / kSliceRows;
  const dim3 grid((slices + kSliceWarps - 1) / kSliceWarps, p.heads, p.batch);
  if (dp == 64) {
    quantize_slices_kernel<64, kSliceRows><<<grid, kQuantThreads, 0, stream>>>(p);
  } else {
    quantize_slices_kernel<128, kSliceRows><<<grid, kQuantThreads, 0, stream>>>(p);
  }
}

}  // namespace

bool quantize_slices_fit(const QuantRowsParams& params, int slice_rows) {
  const bool known_slice = slice_rows == 16 || slice_rows == 32 || slice_rows == 64 || slice_rows == 128;
  return known_slice && params.mean_source != MeanSource::kBlockRows && params.len_pad % slice_rows == 0;
}

void launch_quantize_slices(const QuantRowsParams& params, int dp, int slice_rows,
                            cudaStream_t stream) {
  switch (slice_rows) {
    case 16: launch_slices<16>(params, dp, stream); break;
    case 32: launch_slices<32>(params, dp, stream); break;
    case 64: launch_slices<64>(params, dp, stream); break;
    default: launch_slices<128>(params, dp, stream); break;
  }
}

}  // namespace sageattn::cuda
