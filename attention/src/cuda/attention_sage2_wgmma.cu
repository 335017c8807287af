// sage2-8b on sm_90a: INT8 QK and FP8 E4M3 PV on wgmma, TMA-fed (attention_wgmma_kernel.cuh).
#include "cuda/attention_launch.cuh"
#include "cuda/attention_wgmma_kernel.cuh"
#include "cuda/launch.h"

namespace sageattn::cuda {
namespace {

template <int kDp, int kConsumers>
void launch_wgmma_instance(const WgmmaAttentionParams& params, cudaStream_t stream) {
  using T = WgmmaTile<kDp, kConsumers>;
  const bool delta = params.attn.delta_s != nullptr;
  auto* kernel = delta ? attention_wgmma_kernel<kDp, kConsumers, true>
                       : attention_wgmma_kernel<kDp, kConsumers, false>;
  // Above 48 KB a kernel must opt in to dynamic shared memory. If that fails, launching would
  // only fail again: return, and the caller's launch check (cudaGetLastError) reports this error.
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSmemBytes) !=
      cudaSuccess) {
    return;
  }
  // One CTA per tile, `splits` per tile from split_first_tile on (WgmmaAttentionParams).
  const long long tiles = static_cast<long long>(params.attn.len_q_pad / T::kBlockQ) *
                          params.attn.heads_q * params.attn.batch;
  const long long ctas =
      params.split_first_tile + (tiles - params.split_first_tile) * params.splits;
  kernel<<<static_cast<unsigned>(ctas), T::kThreads, T::kSmemBytes, stream>>>(params);
}

}  // namespace

void launch_attention_sage2_wgmma(const WgmmaAttentionParams& params, int dp, TileShape tiles,
                                  cudaStream_t stream) {
  // hd64: four consumers (kWgmmaTiles4), or two (family wgmma2); hd128: three, or two. The
  // selector (plan_kernel) picks the tiles; the host sized every buffer for them.
  const bool two = tiles.block_q == kWgmmaTiles2.block_q;
  if (dp == 64) {
    two ? launch_wgmma_instance<64, 2>(params, stream) : launch_wgmma_instance<64, 4>(params, stream);
  } else {
    const bool three = tiles.block_q == kWgmmaTiles3.block_q;
    three ? launch_wgmma_instance<128, 3>(params, stream)
          : launch_wgmma_instance<128, 2>(params, stream);
  }
}

long long wgmma_key_split_partial_floats(int dp, TileShape tiles) {
  const auto floats = [](auto tile) {
    using T = decltype(tile);
    return 4LL * KeySplitPartial<T::kOValues, 128 * T::kConsumers>::kFloat4s;
  };
  if (dp == 64) {
    return tiles.block_q == kWgmmaTiles2.block_q ? floats(WgmmaTile<64, 2>{}) : floats(WgmmaTile<64, 4>{});
  }
  return tiles.block_q == kWgmmaTiles3.block_q ? floats(WgmmaTile<128, 3>{}) : floats(WgmmaTile<128, 2>{});
}

const char* attention_sage2_wgmma_missing(int dp) {
  return dp == 64 ? kernel_image_missing(reinterpret_cast<const void*>(attention_wgmma_kernel<64, 4, false>))
                  : kernel_image_missing(reinterpret_cast<const void*>(attention_wgmma_kernel<128, 3, false>));
}

}  // namespace sageattn::cuda
