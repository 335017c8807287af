// Tile shapes shared by the CUDA kernels and the CPU golden model: quantization groups are
// defined by these, so both must agree on them.
#pragma once

namespace sageattn {

// A Q block is the rows one CTA owns; Q smoothing (mean, delta_s) is per Q block.
// A K block is the keys one main-loop iteration consumes; online softmax steps per K block.
// A warp owns warp_q consecutive rows of the Q block.
struct TileShape {
  int block_q;
  int block_k;
  int warp_q;
};

// mma.sync kernels (sm_80/86/89; on sm_90 sage2-4b and sage1, which have no wgmma kernel,
// sage2-8b in a build without sm_90a or asked for with kernel family mma): 4 warps x 32 rows,
// K blocks of 64 keys (the k-extent of two m16n8k32 PV MMAs).
inline constexpr TileShape kMmaTiles{128, 64, 32};
static_assert(kMmaTiles.block_q % kMmaTiles.warp_q == 0, "warps must tile the Q block");

// wgmma kernels (sm_90a): CTA = 2 or 3 consumer warpgroups x 64 rows = one Q block; K blocks of
// 128 keys (the N of one m64n128k32 QK wgmma, the k-extent of four PV k-steps). Warp w of a
// warpgroup holds rows 16w + g and 16w + g + 8 and the columns 8j + 2t, 8j + 2t + 1, the
// mma.sync fragment pattern, so the Q/K group definitions below keep their meaning; warp_q 16
// makes a per-thread Q group exactly one thread's row pair.
inline constexpr TileShape kWgmmaTiles2{128, 128, 16};
inline constexpr TileShape kWgmmaTiles3{192, 128, 16};
// Four consumers, hd64 only (112 registers a consumer thread hold its O, O_blk, S and P at hd64,
// not at hd128): the hd64 tiles of the sm_90a kernel; kWgmmaTiles (three) is hd128's.
inline constexpr TileShape kWgmmaTiles4{256, 128, 16};
inline constexpr TileShape kWgmmaTiles = kWgmmaTiles3;

// How a kernel turns P into the FP8 PV operand (FP8 variants only):
//   kTimes448: P8 = e4m3(P * 448) with P in [0, 1]; O is divided by 448 at the end.
//   kExp2Offset8: P8 = e4m3(exp2(S - (m - 8))), P born in [0, 256] with no multiply; the row
//     sum l accumulates the same scaled P, so the factor 256 cancels in O = buf * (1 / l).
enum class PScale { kTimes448, kExp2Offset8 };
// How one K block's FP8 PV product is accumulated by the tensor cores:
//   kExactFp32: exact (mma.sync on sm_89/sm_90 keeps the products of one k32 step in FP32).
//   kWgmmaTruncating: wgmma e4m3, measured on the H200 (hopper-path.md section 3): per k32 step
//     and output element, C and the 32 products are aligned to the largest exponent E, each
//     truncated toward zero to a multiple of 2^(E-13), summed, and the sum truncated toward zero
//     to 14 significant bits; the k-steps of one block chain through that accumulator.
enum class PvAccumulation { kExactFp32, kWgmmaTruncating };
// Where the softmax row sum l comes from (FP8 variants only):
//   kFp32P: the FP32 P of every key, summed on the CUDA cores before P is rounded to FP8.
//   kFp8PTensor: the FP8 P the PV product uses, summed by that same product through an extra
//     V column of ones (wgmma N = D + 8), so under the PV accumulation rule; O / l then divides
//     by exactly the weights that were applied, and the CUDA cores do no per-score addition.
enum class RowSum { kFp32P, kFp8PTensor };

// The sm_90a kernel's split of the grid's last tiles over their keys (docs/kernels.md, "The
// last wave"). With one CTA per SM, a grid of n equal tiles runs ceil(n / SMs) waves; the
// partial last one leaves SMs idle (FLUX's 576 tiles on 132 SMs: 4.36 waves run as 5). Tiles
// are numbered in launch order, t = (b * H_q + h) * q_blocks + q_block (non-causal; causal grids
// are not split); every tile t >= first_tile is computed by `splits` CTAs, split s over the key
// blocks [key_split_begin(s), key_split_begin(s + 1)), each starting its online softmax afresh;
// the last of them to finish merges the partial (O, m, l) in split order:
//   m = max_s m_s, w_s = exp2(m_s - m), O = sum_s w_s O_s, l = sum_s w_s l_s  (s = 0, 1, ...).
// splits == 1: no tile is split.
struct KeySplit {
  long long first_tile = 0;
  int splits = 1;
  int k_blocks = 0;  // key blocks of every tile (block_k keys each)
};
// Split boundaries are multiples of kKeySplitBlockMultiple key blocks (the kernel's ring of two
// stages then starts every split on stage 0, phase 0, as a whole tile does), so a split has at
// least that many blocks; and at most kMaxKeySplits splits a tile.
inline constexpr int kKeySplitBlockMultiple = 4;
inline constexpr int kMaxKeySplits = 16;
// First key block of split s (s = splits: k_blocks): s * k_blocks / splits rounded to the
// nearest multiple of kKeySplitBlockMultiple; strictly increasing while k_blocks >= 4 * splits.
constexpr int key_split_begin(const KeySplit& split, int s) {
  if (s >= split.splits) return split.k_blocks;
  const long long m = kKeySplitBlockMultiple;
  return static_cast<int>((2LL * s * split.k_blocks + m * split.splits) / (2LL * m * split.splits) *
                          m);
}
// The split for a non-causal grid of `tiles` tiles of `k_blocks` key blocks each on `sms` SMs
// (one CTA per SM): the tiles of the partial last wave (all of them when there are fewer than
// sms), each over as many CTAs as the idle SMs allow, at most kMaxKeySplits, and each with at
// least kKeySplitBlockMultiple blocks. No split for a causal grid, a whole last wave or sms 0.
constexpr KeySplit plan_key_split(long long tiles, int k_blocks, int sms, bool causal) {
  KeySplit none;
  none.k_blocks = k_blocks;
  if (causal || sms <= 0 || tiles <= 0) return none;
  const long long tail = tiles % sms;
  if (tail == 0) return none;
  long long splits = sms / tail;
  if (splits > k_blocks / kKeySplitBlockMultiple) splits = k_blocks / kKeySplitBlockMultiple;
  if (splits > kMaxKeySplits) splits = kMaxKeySplits;
  if (splits < 2) return none;
  KeySplit plan;
  plan.first_tile = tiles - tail;
  plan.splits = static_cast<int>(splits);
  plan.k_blocks = k_blocks;
  return plan;
}

// Everything the golden model must know to reproduce one kernel family bit for bit (up to FP32
// summation order): its tiles, its P scaling, its PV accumulation and its row sum, and for one
// problem on one device, the split of the last wave's tiles over their keys.
struct KernelNumerics {
  TileShape tiles;
  PScale p_scale;
  PvAccumulation pv_accumulation;
  RowSum row_sum = RowSum::kFp32P;
  KeySplit key_split{};
  // Rows of padding before Q's row 0 (causal_q_lead_rows): Q block b holds the rows
  // [b * block_q - q_lead_rows, (b + 1) * block_q - q_lead_rows), and the Q groups (smoothing
  // mean, delta_s, scales) follow those blocks. 0: the padding, if any, ends the last block.
  int q_lead_rows = 0;
};
// The sm_90a kernel's causal grids put Q's padding (len_q rounded up to block_q) before row 0
// instead of after the last row, in whole consumer warpgroups of kWgmmaConsumerRows: causal, the
// last Q block runs every key block and the first only one, so a consumer holding only padding
// rows wastes one key block instead of all of them (causal L16384 at hd128: two such consumers,
// ~1.5% of the call's tensor work). The rest of the padding (< 64 rows) stays last: that consumer
// runs for its valid rows anyway, and the kernel's TMA store takes no box that starts before
// row 0. Non-causal tiles all run every key, so there the padding stays last.
inline constexpr int kWgmmaConsumerRows = 64;
constexpr int causal_q_lead_rows(long long len_q, int block_q, bool causal) {
  if (!causal || block_q <= 0) return 0;
  const int padding = static_cast<int>((block_q - len_q % block_q) % block_q);
  return padding / kWgmmaConsumerRows * kWgmmaConsumerRows;
}
// Q blocks of block_q rows over len_q rows whose first block starts lead_rows before row 0.
constexpr long long q_block_count(long long len_q, int block_q, long long lead_rows) {
  return (lead_rows + len_q + block_q - 1) / block_q;
}

inline constexpr KernelNumerics kMmaNumerics{kMmaTiles, PScale::kTimes448,
                                             PvAccumulation::kExactFp32, RowSum::kFp32P};
inline constexpr KernelNumerics kWgmmaNumerics{kWgmmaTiles, PScale::kExp2Offset8,
                                               PvAccumulation::kWgmmaTruncating,
                                               RowSum::kFp8PTensor};

// Per-thread groups: an m16n8kX fragment gives lane l the A rows l/4 and l/4+8 of each 16-row
// slice, and the B column (key) l/4 of each 8-key slice. So within a warp's rows, row r belongs
// to thread group r % 8; within a K block, key j belongs to group j % 8.
inline constexpr int kThreadGroups = 8;

inline constexpr int kInt8Max = 127;
inline constexpr int kInt4Max = 7;
inline constexpr float kE4M3Max = 448.0f;
inline constexpr float kLog2E = 1.4426950408889634f;
// kExp2Offset8: P is born as exp2(S - m + 8), i.e. scaled by 2^8 exactly.
inline constexpr float kPExponentOffset = 8.0f;

}  // namespace sageattn
