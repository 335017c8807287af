// The mma.sync attention kernel (FlashAttention-2 structure) shared by every variant:
// 4 warps x 32 Q rows per CTA, K blocks of 64 keys double-buffered with cp.async, S = Q K^T on
// INT8 (m16n8k32) or INT4 (m16n8k64) tensor cores, online softmax in base 2, PV on FP8 E4M3
// (two-level accumulation) or FP16. Numerics: design.md section 2; golden model:
// attention/src/reference/golden.cpp.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include <cstdint>
#include <type_traits>

#include "cuda/epilogue.cuh"
#include "cuda/mma.cuh"
#include "cuda/params.h"
#include "sageattn/tiles.h"

namespace sageattn::cuda {

template <int kDp, QkBits kBits, PvType kPv>
struct AttentionTile {
  static constexpr int kBlockQ = kMmaTiles.block_q;
  static constexpr int kBlockK = kMmaTiles.block_k;
  // Rows one warp computes. The quantization groups are those of tiles.h (32-row warp groups,
  // thread group row % 8) whatever this is; 16-row warps (two per scale group, 128 registers,
  // 16 warps per SM) were correct but 7-20% slower on the H100 (docs/gpu-notes.md run 6).
  static constexpr int kWarpRows = kMmaTiles.warp_q;
  static constexpr int kWarps = kBlockQ / kWarpRows;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kMTiles = kWarpRows / 16;  // m16 tiles per warp
  static constexpr int kScaleWarpGroups = kBlockQ / kMmaTiles.warp_q;
  static constexpr int kKeyTiles = kBlockK / 8;  // n8 tiles of S
  static constexpr int kDimTiles = kDp / 8;      // n8 tiles of O
  static constexpr int kQkBytes = kBits == QkBits::kInt8 ? kDp : kDp / 2;
  // One MMA consumes 32 bytes of a row: 32 INT8 (k32) or 64 INT4 (k64).
  static constexpr int kQkSteps = kQkBytes / 32;
  // 16 bytes of padding per shared-memory row: row strides of an odd number of 16-byte units
  // make the 8 rows of every ldmatrix phase hit 8 different bank groups.
  static constexpr int kRowPad = 16;
  static constexpr int kQkStride = kQkBytes + kRowPad;
  static constexpr int kVRows = kPv == PvType::kFp8 ? kDp : kBlockK;  // FP8 V is stored [D][keys]
  static constexpr int kVRowBytes = kPv == PvType::kFp8 ? kBlockK : kDp * 2;
  static constexpr int kVStride = kVRowBytes + kRowPad;
  static constexpr int kQSmem = kBlockQ * kQkStride;
  static constexpr int kKSmem = kBlockK * kQkStride;
  static constexpr int kVSmem = kVRows * kVStride;
  // Per K block also this CTA's delta_s row (64 floats) and the block's 8 K scales, copied with
  // the tiles so the softmax reads them from shared memory (no global latency to hide in
  // registers).
  static constexpr int kDeltaSmem = kBlockK * 4;
  static constexpr int kKScaleSmem = kScaleGroupsPerWarp * 4;
  static constexpr int kStageSmem = kKSmem + kVSmem + kDeltaSmem + kKScaleSmem;
  // Three K/V stages with a prefetch distance of one: the stage a prefetch overwrites was read
  // two iterations earlier, which the barrier after the previous wait already orders, so each
  // iteration needs one __syncthreads instead of two.
  static constexpr int kStages = 3;
  static constexpr int kSmemBytes = kQSmem + kStages * kStageSmem;
  // CTAs per SM the register budget is cut for. hd128: two (O alone is 128 registers a thread).
  // hd64 FP8-PV: three (168 registers, some spills) measured 4-11% faster than two; hd64 sage1:
  // three measured 2-6% slower (docs/gpu-notes.md run 7), so two.
  static constexpr int kMinCtasPerSm = (kDp == 64 && kPv == PvType::kFp8) ? 3 : 2;
  static_assert(kWarpRows == 16 || kWarpRows == 32, "warps of one or two m16 tiles");
  static_assert(kMmaTiles.warp_q % kWarpRows == 0, "a warp's rows must lie in one scale group");
  static_assert(kBlockK == 64, "PV k-steps assume 64 keys per block");
  static_assert(((kQkStride / 16) % 2) == 1 && ((kVStride / 16) % 2) == 1,
                "odd 16-byte row strides keep ldmatrix conflict-free");
};

// Exact int -> float without I2F (a quarter-rate conversion): the INT32 accumulators start at
// the bit pattern of 1.5 * 2^23, so after the MMAs they hold that float with the dot product
// (|dot| < 2^22: 127 * 127 * 256 < 2^22) in its mantissa; one float subtraction returns it.
inline constexpr int kMagicBits = 0x4B400000;  // 12582912.0f = 1.5 * 2^23
inline constexpr float kMagic = 12582912.0f;

template <int kDp, QkBits kBits, PvType kPv>
__global__ void __launch_bounds__(AttentionTile<kDp, kBits, kPv>::kThreads,
                                  AttentionTile<kDp, kBits, kPv>::kMinCtasPerSm)
    attention_kernel(const AttentionParams p) {
  using T = AttentionTile<kDp, kBits, kPv>;
  extern __shared__ __align__(16) std::uint8_t smem[];
  const float kNegInf = -CUDART_INF_F;
  constexpr float kLn2 = 0.6931471805599453f;

  const int q_blocks = p.len_q_pad / T::kBlockQ;
  // Causal: the longest rows first, so the tail of the grid is short work.
  const int qb = p.causal ? q_blocks - 1 - static_cast<int>(blockIdx.x) : blockIdx.x;
  const int h = blockIdx.y, b = blockIdx.z;
  const int hkv = h / (p.heads_q / p.heads_kv);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;  // fragment row group and column pair
  const int k_blocks_total = p.len_k_pad / T::kBlockK;
  int k_blocks = k_blocks_total;
  if (p.causal) k_blocks = min(k_blocks, ((qb + 1) * T::kBlockQ + T::kBlockK - 1) / T::kBlockK);

  const std::int64_t bh = static_cast<std::int64_t>(b) * p.heads_q + h;
  const std::int64_t bhkv = static_cast<std::int64_t>(b) * p.heads_kv + hkv;
  const auto* gq = reinterpret_cast<const std::uint8_t*>(p.q) +
                   (bh * p.len_q_pad + static_cast<std::int64_t>(qb) * T::kBlockQ) * T::kQkBytes;
  const auto* gk = reinterpret_cast<const std::uint8_t*>(p.k) + bhkv * p.len_k_pad * T::kQkBytes;
  const auto* gv = static_cast<const std::uint8_t*>(p.v) +
                   bhkv * p.len_k_pad * kDp * (kPv == PvType::kFp8 ? 1 : 2);

  std::uint8_t* s_q = smem;
  auto s_k = [&](int stage) { return smem + T::kQSmem + stage * T::kStageSmem; };
  auto s_v = [&](int stage) { return smem + T::kQSmem + stage * T::kStageSmem + T::kKSmem; };
  auto s_delta = [&](int stage) {
    return reinterpret_cast<float*>(smem + T::kQSmem + stage * T::kStageSmem + T::kKSmem + T::kVSmem);
  };
  const float* delta_row =
      p.delta_s == nullptr ? nullptr : p.delta_s + (bh * q_blocks + qb) * p.len_k_pad;

  auto load_q = [&] {
    constexpr int kChunks = T::kQkBytes / 16;
    for (int i = threadIdx.x; i < T::kBlockQ * kChunks; i += T::kThreads) {
      const int r = i / kChunks, c = i % kChunks;
      ptx::cp_async_16(ptx::smem_addr(s_q + r * T::kQkStride + c * 16), gq + r * T::kQkBytes + c * 16);
    }
  };
  // Each thread copies the same 16-byte column of every kRowsPerPass-th row: one base address
  // per operand plus constant offsets, so no per-chunk addresses stay live across the loop.
  constexpr int kKChunks = T::kQkBytes / 16;
  constexpr int kKRowsPerPass = T::kThreads / kKChunks;
  constexpr int kVChunks = T::kVRowBytes / 16;
  constexpr int kVRowsPerPass = T::kThreads / kVChunks;
  // Threads beyond the tile's rows (a wide CTA on a narrow tile) copy nothing.
  constexpr int kKPasses = (T::kBlockK + kKRowsPerPass - 1) / kKRowsPerPass;
  constexpr int kVPasses = (T::kVRows + kVRowsPerPass - 1) / kVRowsPerPass;
  static_assert(T::kBlockK % kKRowsPerPass == 0 || kKPasses == 1, "K copy passes tile the rows");
  static_assert(T::kVRows % kVRowsPerPass == 0 || kVPasses == 1, "V copy passes tile the rows");
  const int k_row0 = threadIdx.x / kKChunks, k_col = (threadIdx.x % kKChunks) * 16;
  const int v_row0 = threadIdx.x / kVChunks, v_col = (threadIdx.x % kVChunks) * 16;
  const std::uint8_t* k_src0 = gk + k_row0 * T::kQkBytes + k_col;
  const std::int64_t v_row_bytes = kPv == PvType::kFp8 ? p.len_k_pad : kDp * 2;
  const std::uint8_t* v_src0 = gv + v_row0 * v_row_bytes + v_col;
  const std::uint32_t k_dst0 = ptx::smem_addr(smem + T::kQSmem + k_row0 * T::kQkStride + k_col);
  const std::uint32_t v_dst0 =
      ptx::smem_addr(smem + T::kQSmem + T::kKSmem + v_row0 * T::kVStride + v_col);
  auto load_kv = [&](int kb, int stage) {
    const std::uint8_t* k_src = k_src0 + static_cast<std::int64_t>(kb) * T::kBlockK * T::kQkBytes;
    const std::uint32_t k_dst = k_dst0 + stage * T::kStageSmem;
#pragma unroll
    for (int pass = 0; pass < kKPasses; ++pass) {
      if (kKRowsPerPass > T::kBlockK && k_row0 >= T::kBlockK) break;
      ptx::cp_async_16(k_dst + pass * kKRowsPerPass * T::kQkStride,
                       k_src + pass * kKRowsPerPass * T::kQkBytes);
    }
    // FP8 V rows are channels (stride len_k_pad, block kb at column kb * 64); fp16 V rows are
    // keys (block kb at row kb * 64).
    const std::uint8_t* v_src =
        v_src0 + (kPv == PvType::kFp8 ? static_cast<std::int64_t>(kb) * T::kBlockK
                                      : static_cast<std::int64_t>(kb) * T::kBlockK * v_row_bytes);
    const std::uint32_t v_dst = v_dst0 + stage * T::kStageSmem;
#pragma unroll
    for (int pass = 0; pass < kVPasses; ++pass) {
      if (kVRowsPerPass > T::kVRows && v_row0 >= T::kVRows) break;
      ptx::cp_async_16(v_dst + pass * kVRowsPerPass * T::kVStride,
                       v_src + pass * kVRowsPerPass * v_row_bytes);
    }
    const std::uint32_t extras = ptx::smem_addr(s_delta(stage));
    constexpr int kDeltaChunks = T::kDeltaSmem / 16;
    if (delta_row != nullptr && threadIdx.x < kDeltaChunks) {
      ptx::cp_async_16(extras + threadIdx.x * 16, delta_row + kb * T::kBlockK + threadIdx.x * 4);
    } else if (threadIdx.x >= kDeltaChunks && threadIdx.x < kDeltaChunks + T::kKScaleSmem / 16) {
      const int part = threadIdx.x - kDeltaChunks;
      ptx::cp_async_16(extras + T::kDeltaSmem + part * 16,
                       p.k_scale + (bhkv * k_blocks_total + kb) * kScaleGroupsPerWarp + part * 4);
    }
  };

  // Every row of this thread's fragments is in thread group g of its warp: one Q scale.
  const int scale_group = warp * T::kWarpRows / kMmaTiles.warp_q;
  const float q_scale =
      p.q_scale[((bh * q_blocks + qb) * T::kScaleWarpGroups + scale_group) * kScaleGroupsPerWarp + g];
  const int row_base = qb * T::kBlockQ + warp * T::kWarpRows + g;  // + mt * 16 + half * 8

  float o[T::kMTiles][T::kDimTiles][4];
#pragma unroll
  for (int mt = 0; mt < T::kMTiles; ++mt)
#pragma unroll
    for (int nt = 0; nt < T::kDimTiles; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) o[mt][nt][e] = 0.0f;
  float row_max[T::kMTiles * 2], row_sum[T::kMTiles * 2];  // index mt * 2 + half
#pragma unroll
  for (int r = 0; r < T::kMTiles * 2; ++r) {
    row_max[r] = kNegInf;
    row_sum[r] = 0.0f;
  }

  load_q();
  load_kv(0, 0);
  ptx::cp_async_commit();

  // Blocks before first_masked need no mask (all keys valid and, causal, below every row's
  // diagonal): they run a copy of the body without the per-element mask code.
  int first_masked = p.len_k / T::kBlockK;
  if (p.causal) first_masked = min(first_masked, qb * T::kBlockQ / T::kBlockK);
  auto step = [&](int kb, auto masked) {
    constexpr bool kMasked = decltype(masked)::value;
    const int stage = kb % T::kStages;
    if (kb + 1 < k_blocks) {
      load_kv(kb + 1, (kb + 1) % T::kStages);
      ptx::cp_async_commit();
      ptx::cp_async_wait<1>();
    } else {
      ptx::cp_async_wait<0>();
    }
    __syncthreads();

    // ---- S = Q K^T in INT32, offset by kMagicBits (see exact int -> float above) ----
    int acc[T::kMTiles][T::kKeyTiles][4];
    const std::uint8_t* sk = s_k(stage);
    auto qk_step = [&](int ks, auto first) {
      std::uint32_t a[T::kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < T::kMTiles; ++mt) {
        ptx::ldmatrix_x4(a[mt], ptx::smem_addr(s_q + (warp * T::kWarpRows + mt * 16 + lane % 16) * T::kQkStride +
                                               ks * 32 + (lane / 16) * 16));
      }
#pragma unroll
      for (int np = 0; np < T::kKeyTiles / 2; ++np) {
        std::uint32_t bk[4];
        ptx::ldmatrix_x4(bk, ptx::smem_addr(sk + (np * 16 + (lane / 16) * 8 + lane % 8) * T::kQkStride +
                                            ks * 32 + ((lane / 8) % 2) * 16));
#pragma unroll
        for (int mt = 0; mt < T::kMTiles; ++mt) {
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            int(&d)[4] = acc[mt][2 * np + half];
            const std::uint32_t b0 = bk[2 * half], b1 = bk[2 * half + 1];
            if constexpr (decltype(first)::value) {
              if constexpr (kBits == QkBits::kInt8) {
                ptx::mma_s8_16832_from(d, a[mt], b0, b1, kMagicBits);
              } else {
                ptx::mma_s4_16864_from(d, a[mt], b0, b1, kMagicBits);
              }
            } else if constexpr (kBits == QkBits::kInt8) {
              ptx::mma_s8_16832(d, a[mt], b0, b1);
            } else {
              ptx::mma_s4_16864(d, a[mt], b0, b1);
            }
          }
        }
      }
    };
    qk_step(0, std::true_type{});
    // Unrolled: 3-6% faster than a rolled loop on the H100 (docs/gpu-notes.md run 4).
#pragma unroll
    for (int ks = 1; ks < T::kQkSteps; ++ks) qk_step(ks, std::false_type{});

    // ---- scores in base 2: int * (q_scale * k_scale) + delta_s, masked ----
    const float* s_extras = s_delta(stage);
    const float2 k_scale = *reinterpret_cast<const float2*>(s_extras + T::kBlockK + 2 * t);
    const float qk_scale[2] = {q_scale * k_scale.x, q_scale * k_scale.y};
    float s[T::kMTiles][T::kKeyTiles][4];
    const bool with_delta = delta_row != nullptr;
#pragma unroll
    for (int nt = 0; nt < T::kKeyTiles; ++nt) {
      const float2 d = with_delta ? *reinterpret_cast<const float2*>(s_extras + nt * 8 + 2 * t)
                                  : make_float2(0.0f, 0.0f);
#pragma unroll
      for (int mt = 0; mt < T::kMTiles; ++mt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float dot = __int_as_float(acc[mt][nt][e]) - kMagic;
          s[mt][nt][e] = fmaf(dot, qk_scale[e & 1], (e & 1) ? d.y : d.x);
        }
    }
    const int key0 = kb * T::kBlockK;
    if constexpr (kMasked) {
#pragma unroll
      for (int mt = 0; mt < T::kMTiles; ++mt)
#pragma unroll
        for (int nt = 0; nt < T::kKeyTiles; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int key = key0 + nt * 8 + 2 * t + (e & 1);
            const int row = row_base + mt * 16 + (e >> 1) * 8;
            if (key >= p.len_k || (p.causal && key > row)) s[mt][nt][e] = kNegInf;
          }
    }

    // ---- online softmax (base 2), P unquantized for the row sums ----
#pragma unroll
    for (int mt = 0; mt < T::kMTiles; ++mt)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int r = mt * 2 + half;
        float mx = row_max[r];
#pragma unroll
        for (int nt = 0; nt < T::kKeyTiles; ++nt) {
          mx = fmaxf(mx, fmaxf(s[mt][nt][2 * half], s[mt][nt][2 * half + 1]));
        }
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // A row that has seen no key yet keeps -inf; subtract 0 so exp2 never sees inf - inf.
        const float m_safe = mx == kNegInf ? 0.0f : mx;
        const float alpha = ptx::fast_exp2(row_max[r] - m_safe);
        row_max[r] = mx;
        float sum = 0.0f;
#pragma unroll
        for (int nt = 0; nt < T::kKeyTiles; ++nt)
#pragma unroll
          for (int e = 2 * half; e < 2 * half + 2; ++e) {
            s[mt][nt][e] = ptx::fast_exp2(s[mt][nt][e] - m_safe);
            sum += s[mt][nt][e];
          }
        row_sum[r] = row_sum[r] * alpha + sum;
        // Once the row maxima settle, alpha is exactly 1 for the whole warp: skip the rescale.
        if (__any_sync(0xffffffffu, alpha != 1.0f)) {
#pragma unroll
          for (int nt = 0; nt < T::kDimTiles; ++nt) {
            o[mt][nt][2 * half] *= alpha;
            o[mt][nt][2 * half + 1] *= alpha;
          }
        }
      }

    // ---- O += P V ----
    const std::uint8_t* sv = s_v(stage);
    if constexpr (kPv == PvType::kFp8) {
      // P8 = e4m3(P * 448). The S fragment of keys {2t, 2t+1, 8+2t, 9+2t} of each 16 keys
      // is the A fragment at k positions 4t..4t+3, matching V's stored permutation.
      std::uint32_t pa[T::kMTiles][2][4];
#pragma unroll
      for (int mt = 0; mt < T::kMTiles; ++mt)
#pragma unroll
        for (int ks = 0; ks < 2; ++ks)
#pragma unroll
          for (int reg = 0; reg < 4; ++reg) {
            const int n0 = 4 * ks + (reg / 2) * 2;  // reg 0,1: keys 0..15; reg 2,3: 16..31
            const int e0 = (reg % 2) * 2;             // reg 0,2: row g; reg 1,3: row g + 8
            const std::uint32_t lo = ptx::e4m3x2(s[mt][n0][e0] * kE4M3Max, s[mt][n0][e0 + 1] * kE4M3Max);
            const std::uint32_t hi =
                ptx::e4m3x2(s[mt][n0 + 1][e0] * kE4M3Max, s[mt][n0 + 1][e0 + 1] * kE4M3Max);
            pa[mt][ks][reg] = lo | (hi << 16);
          }
#pragma unroll
      for (int nt = 0; nt < T::kDimTiles; ++nt) {
        std::uint32_t bv[4];
        ptx::ldmatrix_x4(bv, ptx::smem_addr(sv + (nt * 8 + lane % 8) * T::kVStride + (lane / 8) * 16));
#pragma unroll
        for (int mt = 0; mt < T::kMTiles; ++mt) {
          // Two-level accumulation: this block's product alone, then into the FP32 buffer.
          float blk[4] = {0.0f, 0.0f, 0.0f, 0.0f};
          ptx::mma_e4m3_16832(blk, pa[mt][0], bv[0], bv[1]);
          ptx::mma_e4m3_16832(blk, pa[mt][1], bv[2], bv[3]);
#pragma unroll
          for (int e = 0; e < 4; ++e) o[mt][nt][e] += blk[e];
        }
      }
    } else {
      std::uint32_t pa[T::kMTiles][4][4];
#pragma unroll
      for (int mt = 0; mt < T::kMTiles; ++mt)
#pragma unroll
        for (int ks = 0; ks < 4; ++ks) {
          pa[mt][ks][0] = ptx::half2_bits(s[mt][2 * ks][0], s[mt][2 * ks][1]);
          pa[mt][ks][1] = ptx::half2_bits(s[mt][2 * ks][2], s[mt][2 * ks][3]);
          pa[mt][ks][2] = ptx::half2_bits(s[mt][2 * ks + 1][0], s[mt][2 * ks + 1][1]);
          pa[mt][ks][3] = ptx::half2_bits(s[mt][2 * ks + 1][2], s[mt][2 * ks + 1][3]);
        }
      // (Keys-outer order measured the same on the H100, docs/gpu-notes.md run 10.)
#pragma unroll
      for (int nt = 0; nt < T::kDimTiles; ++nt) {
#pragma unroll
        for (int kp = 0; kp < 2; ++kp) {
          std::uint32_t bv[4];
          ptx::ldmatrix_x4_trans(bv, ptx::smem_addr(sv + (kp * 32 + (lane / 8) * 8 + lane % 8) * T::kVStride +
                                                    nt * 16));
#pragma unroll
          for (int mt = 0; mt < T::kMTiles; ++mt) {
            ptx::mma_f16_16816(o[mt][nt], pa[mt][2 * kp], bv[0], bv[1]);
            ptx::mma_f16_16816(o[mt][nt], pa[mt][2 * kp + 1], bv[2], bv[3]);
          }
        }
      }
    }
  };
  for (int kb = 0; kb < k_blocks; ++kb) {
    if (kb < first_masked) {
      step(kb, std::false_type{});
    } else {
      step(kb, std::true_type{});
    }
  }

  // ---- epilogue: O = buf * (1 / l) * v_factor + v_mean (epilogue.cuh) ----
  const float* v_factor = p.v_factor == nullptr ? nullptr : p.v_factor + bhkv * kDp;
  const float* v_mean = p.v_mean == nullptr ? nullptr : p.v_mean + bhkv * kDp;
  constexpr int kRows = T::kMTiles * 2;  // index mt * 2 + half
  std::int64_t out_off[kRows];
  bool row_valid[kRows];
  float inv_l[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
    const int mt = r / 2, half = r % 2;
    float l = row_sum[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const int row = row_base + mt * 16 + half * 8;
    row_valid[r] = row < p.len_q;
    out_off[r] = b * p.out_stride_b + h * p.out_stride_h + row * p.out_stride_l;
    inv_l[r] = output_row_scale(l);
    if (p.lse != nullptr && t == 0 && row_valid[r]) {
      p.lse[bh * p.len_q + row] = (row_max[r] + log2f(l)) * kLn2;
    }
  }
  // Accumulator element 2 half + e of tile (mt, nt): row 16 mt + 8 half + g, channel 8 nt + 2 t + e.
  store_output_fragment<kRows, T::kDimTiles>(
      p, out_off, row_valid, inv_l, t, GlobalChannels{v_factor, v_mean},
      [&](int r, int nt, int e) { return o[r / 2][nt][2 * (r % 2) + e]; });
}

}  // namespace sageattn::cuda
