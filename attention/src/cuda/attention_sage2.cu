// sage2-8b and sage2-4b: INT8 (m16n8k32) or INT4 (m16n8k64) QK, FP8 E4M3 PV (m16n8k32, sm_89+)
// with two-level FP32 accumulation.
#include "cuda/attention_launch.cuh"
#include "cuda/launch.h"

namespace sageattn::cuda {

void launch_attention_sage2(const AttentionParams& params, int dp, QkBits bits,
                            cudaStream_t stream) {
  if (bits == QkBits::kInt8) {
    if (dp == 64) {
      launch_attention_instance<64, QkBits::kInt8, PvType::kFp8>(params, stream);
    } else {
      launch_attention_instance<128, QkBits::kInt8, PvType::kFp8>(params, stream);
    }
  } else {
    if (dp == 64) {
      launch_attention_instance<64, QkBits::kInt4, PvType::kFp8>(params, stream);
    } else {
      launch_attention_instance<128, QkBits::kInt4, PvType::kFp8>(params, stream);
    }
  }
}

const char* attention_sage2_missing(int dp, QkBits bits) {
  if (bits == QkBits::kInt8) {
    return dp == 64 ? attention_instance_missing<64, QkBits::kInt8, PvType::kFp8>()
                    : attention_instance_missing<128, QkBits::kInt8, PvType::kFp8>();
  }
  return dp == 64 ? attention_instance_missing<64, QkBits::kInt4, PvType::kFp8>()
                  : attention_instance_missing<128, QkBits::kInt4, PvType::kFp8>();
}

}  // namespace sageattn::cuda
