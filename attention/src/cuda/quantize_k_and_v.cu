// The second launch of a call's quantization: K's rows (quantize_rows.cuh, smoothed by the
// finished channel mean) and V's PV operand (quantize_v.cuh, FP8 or FP16). Both need only the
// statistics of the first launch, which is done before this one reads anything (stream order,
// or the wait below when launched programmatically), so one grid does both and each CTA takes
// its role from its index: V's tiles of 128 tokens first, then K's blocks of 64 or 128 keys,
// the longer CTAs first so that the shorter ones fill in behind them.
#include "cuda/grid_dependency.cuh"
#include "cuda/launch.h"
#include "cuda/programmatic_launch.h"
#include "cuda/quantize_rows.cuh"
#include "cuda/quantize_v.cuh"

namespace sageattn::cuda {
namespace {

template <int kDp, int kBlockK, MeanSource kMean>
__global__ void __launch_bounds__(kQuantThreads)
    quantize_k_and_v_kernel(const QuantRowsParams k, const QuantVParams v) {
  // One role per CTA: its shared memory is the larger of the two, not their sum.
  __shared__ union {
    QuantVShared<kDp> v;
    QuantRowsShared<kDp, kBlockK, kBlockK, kMean> rows;
  } smem;
  // The attention kernel's CTAs may start as this grid's last wave runs (their producers wait
  // for this grid's end before their first copy); this grid itself waits for launch 1's
  // statistics.
  allow_dependent_launch();
  wait_for_prerequisite_grids();
  const int v_ctas = quantize_v_ctas(v);
  const int cta = static_cast<int>(blockIdx.x);
  if (cta < v_ctas) {
    quantize_v_cta<kDp>(v, cta, smem.v);
  } else {
    // K has no warp split inside a block: per-warp scales are per-block scales.
    quantize_rows_cta<kDp, kBlockK, kBlockK, kMean>(k, cta - v_ctas, smem.rows);
  }
}

template <int kBlockK, MeanSource kMean>
void launch_instance(const QuantRowsParams& k, const QuantVParams& v, int dp, bool programmatic,
                     cudaStream_t stream) {
  const dim3 grid(quantize_v_ctas(v) + quantize_rows_ctas(k, kBlockK));
  auto* kernel = dp == 64 ? quantize_k_and_v_kernel<64, kBlockK, kMean>
                          : quantize_k_and_v_kernel<128, kBlockK, kMean>;
  launch_kernel(kernel, grid, dim3(kQuantThreads), 0, stream, programmatic, k, v);
}

template <int kBlockK>
void launch_k_blocks(const QuantRowsParams& k, const QuantVParams& v, int dp, bool programmatic,
                     cudaStream_t stream) {
  if (k.mean_source == MeanSource::kChannelMean) {
    launch_instance<kBlockK, MeanSource::kChannelMean>(k, v, dp, programmatic, stream);
  } else {
    launch_instance<kBlockK, MeanSource::kNone>(k, v, dp, programmatic, stream);
  }
}

}  // namespace

void launch_quantize_k_and_v(const QuantRowsParams& k, int block_k, const QuantVParams& v, int dp,
                             bool programmatic, cudaStream_t stream) {
  static_assert(kWgmmaTiles.block_k == 128 && kMmaTiles.block_k == 64, "the two K block sizes");
  if (block_k == kWgmmaTiles.block_k) {
    launch_k_blocks<kWgmmaTiles.block_k>(k, v, dp, programmatic, stream);
  } else {
    launch_k_blocks<kMmaTiles.block_k>(k, v, dp, programmatic, stream);
  }
}

}  // namespace sageattn::cuda
