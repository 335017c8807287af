// The first launch of a call's quantization: Q's rows (quantize_rows.cuh) and the per-channel
// statistics of K and V (channel_stats.cuh). The two are independent, so one grid does both and
// each CTA takes its role from its index. The grid is the statistics pass's own, (splits, Hkv,
// sources x B), with Q's CTAs in further z slices of it (row-major over x, y, z; the last slice
// may end in idle CTAs). So the statistics CTAs come first: lower indices are dispatched first
// in practice, and they are the long ones (512 tokens or more each, and the last of each
// (batch, head, source) then reduces the splits), so Q's shorter CTAs fill the GPU behind
// them instead of the statistics forming a tail of their own.
#include <algorithm>

#include "cuda/channel_stats.cuh"
#include "cuda/grid_dependency.cuh"
#include "cuda/launch.h"
#include "cuda/quantize_rows.cuh"

namespace sageattn::cuda {
namespace {

// The CUDA limit on gridDim.z.
constexpr int kMaxGridZ = 65535;

// No minimum-occupancy bound: unbounded, ptxas gives the hd128 block-mean instance with 192-row
// blocks (sage2-8b on wgmma, the common case) 112 registers, 2 CTAs per SM, and no spills; bounded
// to 3 CTAs per SM (80 registers) it spilled 28 bytes. Both measured the same on the H200
// (2026-11-30, sixth session: B2 H24 hd128 L4096 quant_ms 0.100 and 0.099; the kernel is
// bound by DRAM, not occupancy).
template <int kDp, int kRows, int kWarpRows, MeanSource kMean>
__global__ void __launch_bounds__(kQuantThreads)
    quantize_q_and_channel_stats_kernel(const QuantRowsParams q, const ChannelStatsParams stats) {
  // One role per CTA: its shared memory is the larger of the two, not their sum.
  __shared__ union {
    ChannelStatsShared<kDp> stats;
    QuantRowsShared<kDp, kRows, kWarpRows, kMean> rows;
  } smem;
  // Launch 2's CTAs may start as this grid's last wave runs; they wait for its end before
  // reading the statistics.
  allow_dependent_launch();
  const int stats_slices = stats.sources * stats.batch;
  if (static_cast<int>(blockIdx.z) < stats_slices) {
    // x past the splits only where Q's CTAs needed a wider grid (launch_instance).
    if (static_cast<int>(blockIdx.x) < stats.splits) {
      channel_stats_cta<kDp>(stats, blockIdx.x, blockIdx.y, blockIdx.z, smem.stats);
    }
    return;
  }
  const unsigned cta = ((blockIdx.z - stats_slices) * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  if (cta < static_cast<unsigned>(quantize_rows_ctas(q, kRows))) {
    quantize_rows_cta<kDp, kRows, kWarpRows, kMean>(q, cta, smem.rows);
  }
}

template <int kRows, int kWarpRows, MeanSource kMean>
void launch_instance(const QuantRowsParams& q, const ChannelStatsParams& stats, int dp,
                     cudaStream_t stream) {
  const bool has_stats = stats.sources > 0;
  const int stats_slices = has_stats ? stats.sources * stats.batch : 0;
  const int height = has_stats ? stats.heads : 1;
  const int q_ctas = quantize_rows_ctas(q, kRows);
  // Wider than the splits only if Q's slices would pass the z limit (a very long Q against a
  // short K and few kv heads); the statistics CTAs past the splits then do nothing.
  // (At least one: with sources x B at the limit already, the launch fails and says so.)
  const long long slices_left = std::max<long long>(1, kMaxGridZ - stats_slices);
  const int width = std::max<int>(has_stats ? stats.splits : 1,
                                  static_cast<int>((q_ctas + height * slices_left - 1) / (height * slices_left)));
  const int q_slices = (q_ctas + width * height - 1) / (width * height);
  const dim3 grid(width, height, stats_slices + q_slices);
  if (dp == 64) {
    quantize_q_and_channel_stats_kernel<64, kRows, kWarpRows, kMean><<<grid, kQuantThreads, 0, stream>>>(q, stats);
  } else {
    quantize_q_and_channel_stats_kernel<128, kRows, kWarpRows, kMean><<<grid, kQuantThreads, 0, stream>>>(q, stats);
  }
}

template <int kRows, int kWarpRows>
void launch_q_tiles(const QuantRowsParams& q, const ChannelStatsParams& stats, int dp,
                    cudaStream_t stream) {
  if (q.mean_source == MeanSource::kBlockRows) {
    launch_instance<kRows, kWarpRows, MeanSource::kBlockRows>(q, stats, dp, stream);
  } else {
    launch_instance<kRows, kWarpRows, MeanSource::kNone>(q, stats, dp, stream);
  }
}

}  // namespace

void launch_quantize_q_and_stats(const QuantRowsParams& q, TileShape tiles,
                                 const ChannelStatsParams& stats, int dp, cudaStream_t stream) {
  if (tiles.block_q == kWgmmaTiles4.block_q && tiles.warp_q == kWgmmaTiles4.warp_q) {
    launch_q_tiles<kWgmmaTiles4.block_q, kWgmmaTiles4.warp_q>(q, stats, dp, stream);
  } else if (tiles.block_q == kWgmmaTiles3.block_q && tiles.warp_q == kWgmmaTiles3.warp_q) {
    launch_q_tiles<kWgmmaTiles3.block_q, kWgmmaTiles3.warp_q>(q, stats, dp, stream);
  } else if (tiles.block_q == kWgmmaTiles2.block_q && tiles.warp_q == kWgmmaTiles2.warp_q) {
    launch_q_tiles<kWgmmaTiles2.block_q, kWgmmaTiles2.warp_q>(q, stats, dp, stream);
  } else {
    launch_q_tiles<kMmaTiles.block_q, kMmaTiles.warp_q>(q, stats, dp, stream);
  }
}

}  // namespace sageattn::cuda
