// TMA descriptors (CUtensorMap) for the wgmma kernels, encoded on the host through the driver
// entry point the CUDA runtime hands out, so libsageattn needs no link against libcuda.
#pragma once

#include <cuda.h>

#include <cstdint>

namespace sageattn::cuda {

// A row-major byte matrix [rows, row_bytes] at `base` (rows row_bytes apart; row_bytes a
// multiple of 16) read in boxes of box_rows x box_bytes. box_bytes of 128 or 64 use the TMA
// swizzle of that span (the wgmma SW128 / SW64 operand layouts); the base must be 16-byte
// aligned. Throws c10::Error naming the operand when the driver refuses.
CUtensorMap make_byte_tensor_map(const char* operand, const void* base, std::uint64_t rows,
                                 std::uint64_t row_bytes, std::uint32_t box_rows,
                                 std::uint32_t box_bytes);

}  // namespace sageattn::cuda
