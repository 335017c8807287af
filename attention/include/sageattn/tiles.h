// Tile shapes shared by the CUDA kernels and the CPU golden model: quantization groups are
// defined by these, so both must agree on them.
#pragma once

namespace sageattn {

// A Q block is the rows one CTA owns; Q smoothing (mean, delta_s) is per Q block.
// A K block is the keys one main-loop iteration consumes; online softmax steps per K block.
// A warp owns kWarpQ consecutive rows of the Q block.
struct TileShape {
  int block_q;
  int block_k;
  int warp_q;
};

// mma.sync kernels (sm_80/86/89, and sm_90 when wgmma is unavailable): 4 warps x 32 rows,
// K blocks of 64 keys (the k-extent of two m16n8k32 PV MMAs).
inline constexpr TileShape kMmaTiles{128, 64, 32};
static_assert(kMmaTiles.block_q % kMmaTiles.warp_q == 0, "warps must tile the Q block");

// Per-thread groups: an m16n8kX fragment gives lane l the A rows l/4 and l/4+8 of each 16-row
// slice, and the B column (key) l/4 of each 8-key slice. So within a warp's rows, row r belongs
// to thread group r % 8; within a K block, key j belongs to group j % 8.
inline constexpr int kThreadGroups = 8;

inline constexpr int kInt8Max = 127;
inline constexpr int kInt4Max = 7;
inline constexpr float kE4M3Max = 448.0f;
inline constexpr float kLog2E = 1.4426950408889634f;

}  // namespace sageattn
