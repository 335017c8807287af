// TMA descriptors (CUtensorMap) for the wgmma kernels, encoded on the host through the driver
// entry point the CUDA runtime hands out, so libsageattn needs no link against libcuda.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <string>

namespace sageattn::cuda {

// A row-major byte matrix [rows, row_bytes] at `base` (rows row_bytes apart; row_bytes a
// multiple of 16) read in boxes of box_rows x box_bytes. box_bytes of 128 or 64 use the TMA
// swizzle of that span (the wgmma SW128 / SW64 operand layouts); the base must be 16-byte
// aligned. Throws c10::Error naming the operand when the driver refuses.
CUtensorMap make_byte_tensor_map(const char* operand, const void* base, std::uint64_t rows,
                                 std::uint64_t row_bytes, std::uint32_t box_rows,
                                 std::uint32_t box_bytes);

// The attention output as the wgmma kernel's TMA store sees it: [B, H, L, D] through element
// strides in any order (HND or NHD), bf16 or fp16, the last dim contiguous.
struct OutputTensorView {
  void* base = nullptr;
  bool bf16 = true;
  std::int64_t batch = 0, heads = 0, len = 0, head_dim = 0;
  std::int64_t stride_b = 0, stride_h = 0, stride_l = 0;
};

// Why no tensor map can describe `out` for the store (empty: one can): TMA needs the base 16-byte
// aligned and every stride but the innermost a multiple of 16 bytes (below 2^40).
std::string output_tensor_map_unfit(const OutputTensorView& out);

// The 4D map (head_dim, len, heads, batch) of `out`, innermost first, box kOutputBoxChannels x
// kOutputBoxRows x 1 x 1 with the 128-byte swizzle (wgmma_output_tile.cuh): a box clips at len
// and head_dim, so a store writes nothing past them. Precondition: output_tensor_map_unfit is
// empty; throws c10::Error when the driver refuses all the same.
CUtensorMap make_output_tensor_map(const OutputTensorView& out);

}  // namespace sageattn::cuda
