// sage1: INT8 QK (m16n8k32), FP16 PV (m16n8k16) with FP32 accumulation; sm_80+.
#include "cuda/attention_launch.cuh"
#include "cuda/launch.h"

namespace sageattn::cuda {

void launch_attention_sage1(const AttentionParams& params, int dp, cudaStream_t stream) {
  if (dp == 64) {
    launch_attention_instance<64, QkBits::kInt8, PvType::kFp16>(params, stream);
  } else {
    launch_attention_instance<128, QkBits::kInt8, PvType::kFp16>(params, stream);
  }
}

const char* attention_sage1_missing(int dp) {
  return dp == 64 ? attention_instance_missing<64, QkBits::kInt8, PvType::kFp16>()
                  : attention_instance_missing<128, QkBits::kInt8, PvType::kFp16>();
}

}  // namespace sageattn::cuda
