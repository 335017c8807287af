// sage2-8b on sm_90a: INT8 QK and FP8 E4M3 PV on wgmma, TMA-fed (attention_wgmma_kernel.cuh).
#include <type_traits>

#include "cuda/attention_launch.cuh"
#include "cuda/attention_wgmma_kernel.cuh"
#include "cuda/launch.h"
#include "cuda/programmatic_launch.h"

namespace sageattn::cuda {
namespace {

template <int kDp, int kConsumers>
void launch_wgmma_instance(const WgmmaAttentionParams& params, bool programmatic,
                           cudaStream_t stream) {
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
  // params.ctas CTAs walk the params.items work items (WgmmaAttentionParams).
  launch_kernel(kernel, dim3(static_cast<unsigned>(params.ctas)), dim3(T::kThreads), T::kSmemBytes,
                stream, programmatic, params);
}

// Calls f(Dp, consumers), each a std::integral_constant, for the wgmma instance of the tiles the
// selector planned (plan_kernel): hd64 four consumers (kWgmmaTiles4) or two (family wgmma2),
// hd128 three or two. The launch and the key split's workspace size both go through here.
template <typename F>
auto with_wgmma_instance(int dp, TileShape tiles, F&& f) {
  using std::integral_constant;
  const bool two = tiles.block_q == kWgmmaTiles2.block_q;
  if (dp == 64) {
    return two ? f(integral_constant<int, 64>{}, integral_constant<int, 2>{})
               : f(integral_constant<int, 64>{}, integral_constant<int, 4>{});
  }
  const bool three = tiles.block_q == kWgmmaTiles3.block_q;
  return three ? f(integral_constant<int, 128>{}, integral_constant<int, 3>{})
               : f(integral_constant<int, 128>{}, integral_constant<int, 2>{});
}

}  // namespace

void launch_attention_sage2_wgmma(const WgmmaAttentionParams& params, int dp, TileShape tiles,
                                  bool programmatic, cudaStream_t stream) {
  // The host sized every buffer for these tiles.
  with_wgmma_instance(dp, tiles, [&](auto head_dim, auto consumers) {
    launch_wgmma_instance<decltype(head_dim)::value, decltype(consumers)::value>(
        params, programmatic, stream);
  });
}

long long wgmma_key_split_partial_floats(int dp, TileShape tiles) {
  return with_wgmma_instance(dp, tiles, [](auto head_dim, auto consumers) {
    using T = WgmmaTile<decltype(head_dim)::value, decltype(consumers)::value>;
    return 4LL * KeySplitPartial<T::kOValues, 128 * T::kConsumers>::kFloat4s;
  });
}

const char* attention_sage2_wgmma_missing(int dp) {
  return dp == 64 ? kernel_image_missing(reinterpret_cast<const void*>(attention_wgmma_kernel<64, 4, false>))
                  : kernel_image_missing(reinterpret_cast<const void*>(attention_wgmma_kernel<128, 3, false>));
}

}  // namespace sageattn::cuda
