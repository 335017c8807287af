#include "cuda/tensor_map.h"

#include <c10/util/Exception.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "cuda/wgmma_params.h"

namespace sageattn::cuda {
namespace {

using EncodeTiled = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*,
                                 const cuuint64_t*, const cuuint64_t*, const cuuint32_t*,
                                 const cuuint32_t*, CUtensorMapInterleave, CUtensorMapSwizzle,
                                 CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

// cuTensorMapEncodeTiled from the driver, or nullptr with `why` saying what the runtime answered.
EncodeTiled encode_tiled(std::string& why) {
  static EncodeTiled fn = nullptr;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void* ptr = nullptr;
    cudaDriverEntryPointQueryResult status{};
    // The 12.0 ABI of cuTensorMapEncodeTiled (unchanged since it appeared).
    const cudaError_t err = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000,
                                                             cudaEnableDefault, &status);
    if (err == cudaSuccess && status == cudaDriverEntryPointSuccess) {
      fn = reinterpret_cast<EncodeTiled>(ptr);
      return;
    }
    failure = err != cudaSuccess ? std::string(cudaGetErrorString(err))
                                 : "entry point query result " + std::to_string(status);
    // The query's error is not sticky; taking it off the thread's last-error slot keeps a later
    // launch check from blaming a kernel for it. Its value is the `err` reported above.
    const cudaError_t cleared = cudaGetLastError();
    if (cleared != cudaSuccess && cleared != err) {
      failure += std::string("; then ") + cudaGetErrorString(cleared);
    }
  });
  why = failure;
  return fn;
}

// The driver's encoder, or a clear error: both tensor-map builders below need it.
EncodeTiled require_encode_tiled() {
  std::string why;
  const EncodeTiled encode = encode_tiled(why);
  TORCH_CHECK(encode != nullptr,
              "sageattn: the CUDA driver offers no cuTensorMapEncodeTiled (driver older than "
              "CUDA 12?), needed by the sm_90 kernels: ",
              why);
  return encode;
}

}  // namespace

CUtensorMap make_byte_tensor_map(const char* operand, const void* base, std::uint64_t rows,
                                 std::uint64_t row_bytes, std::uint32_t box_rows,
                                 std::uint32_t box_bytes) {
  const EncodeTiled encode = require_encode_tiled();
  CUtensorMap map;
  const cuuint64_t dims[2] = {row_bytes, rows};
  const cuuint64_t strides[1] = {row_bytes};  // bytes between rows (dims 1..rank-1)
  const cuuint32_t box[2] = {box_bytes, box_rows};
  const cuuint32_t element_strides[2] = {1, 1};
  const CUtensorMapSwizzle swizzle = box_bytes == 128  ? CU_TENSOR_MAP_SWIZZLE_128B
                                     : box_bytes == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
                                                       : CU_TENSOR_MAP_SWIZZLE_NONE;
  const CUresult res = encode(&map, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, const_cast<void*>(base), dims,
                              strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
                              CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  TORCH_CHECK(res == CUDA_SUCCESS, "sageattn: cuTensorMapEncodeTiled refused the ", operand,
              " operand (CUresult ", static_cast<int>(res), "; ", rows, " rows of ", row_bytes,
              " bytes, box ", box_rows, " x ", box_bytes, ")");
  return map;
}

std::string output_tensor_map_unfit(const OutputTensorView& out) {
  constexpr std::int64_t kElementBytes = 2;
  constexpr std::int64_t kMaxStrideBytes = std::int64_t{1} << 40;
  if (reinterpret_cast<std::uintptr_t>(out.base) % 16 != 0) {
    return "the output's address is not 16-byte aligned";
  }
  const std::pair<const char*, std::int64_t> strides[] = {
      {"token", out.stride_l}, {"head", out.stride_h}, {"batch", out.stride_b}};
  for (const auto& [name, stride] : strides) {
    const std::int64_t bytes = stride * kElementBytes;
    if (bytes % 16 != 0 || bytes <= 0 || bytes >= kMaxStrideBytes) {
      return std::string("the output's ") + name + " stride (" + std::to_string(stride) +
             " elements) is not a positive multiple of 16 bytes below 2^40";
    }
  }
  return "";
}

CUtensorMap make_output_tensor_map(const OutputTensorView& out) {
  const EncodeTiled encode = require_encode_tiled();
  const std::string unfit = output_tensor_map_unfit(out);
  TORCH_CHECK(unfit.empty(), "sageattn: no tensor map for the output: ", unfit);
  CUtensorMap map;
  constexpr std::uint64_t kElementBytes = 2;
  const cuuint64_t dims[4] = {static_cast<cuuint64_t>(out.head_dim),
                              static_cast<cuuint64_t>(out.len), static_cast<cuuint64_t>(out.heads),
                              static_cast<cuuint64_t>(out.batch)};
  // Bytes between consecutive indices of dims 1..3 (dim 0 is contiguous).
  const cuuint64_t strides[3] = {static_cast<cuuint64_t>(out.stride_l) * kElementBytes,
                                 static_cast<cuuint64_t>(out.stride_h) * kElementBytes,
                                 static_cast<cuuint64_t>(out.stride_b) * kElementBytes};
  const cuuint32_t box[4] = {kOutputBoxChannels, kOutputBoxRows, 1, 1};
  const cuuint32_t element_strides[4] = {1, 1, 1, 1};
  const CUresult res =
      encode(&map, out.bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 4,
             out.base, dims, strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
             CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_NONE,
             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  TORCH_CHECK(res == CUDA_SUCCESS, "sageattn: cuTensorMapEncodeTiled refused the output (CUresult ",
              static_cast<int>(res), "; [B, H, L, D] = [", out.batch, ", ", out.heads, ", ",
              out.len, ", ", out.head_dim, "], strides ", out.stride_b, ", ", out.stride_h, ", ",
              out.stride_l, " elements)");
  return map;
}

}  // namespace sageattn::cuda
