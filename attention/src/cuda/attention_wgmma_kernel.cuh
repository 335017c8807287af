// The wgmma attention kernel of sage2-8b on sm_90a (hopper-path.md section 4, stage 3a):
//   warpgroup 0, producer, which gives most of its registers to the consumers; two threads:
//     the Q thread (warp 1) walks the CTA's work items (its own, then those it claims: a
//     persistent grid, WgmmaAttentionParams), writes each item's schedule into the slot of its
//     Q buffer and copies the tile's Q (double-buffered) in by TMA, an item ahead;
//     the K/V thread (warp 0) reads the items from the slots and copies K, V^T, the block's
//     delta_s row and K scales per 128-key block into a ring of kStages stages, gated by
//     full/empty mbarriers.
//   warpgroups 1..block_q/64, consumers: 64 Q rows each; per K block S = Q K^T on INT8 wgmma
//     (m64n128k32, both operands in swizzled shared memory), online softmax in base 2 with P
//     born in [0, 256] (exponent offset 8), P to FP8 E4M3 in registers, O_blk = P V^T on FP8 wgmma
//     (m64nDk32, P from registers) into a fresh accumulator, then O = O * alpha + O_blk in FP32
//     (two-level accumulation: the FP8 accumulator keeps ~14 bits, tiles.h); at the end each
//     stages its tile of O in shared memory for one TMA store (params.tma_store,
//     wgmma_output_tile.cuh), or every thread stores its fragment (store_output_fragment).
// The consumer warpgroups overlap each other's softmax with their MMAs. Numerics:
// kWgmmaNumerics (tiles.h); the golden model reproduces them (golden.cpp).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include <cfloat>
#include <cstdint>
#include <type_traits>

#include "cuda/epilogue.cuh"
#include "cuda/exp_turn.cuh"
#include "cuda/grid_dependency.cuh"
#include "cuda/mma.cuh"
#include "cuda/wgmma.cuh"
#include "cuda/wgmma_key_split.cuh"
#include "cuda/wgmma_output_tile.cuh"
#include "cuda/wgmma_params.h"
#include "sageattn/tiles.h"

namespace sageattn::cuda {

// kConsumers warpgroups of 64 rows: the tiles kWgmmaTiles2 / kWgmmaTiles3 / kWgmmaTiles4 (hd64)
// of tiles.h.
template <int kDp, int kConsumers_>
struct WgmmaTile {
  static constexpr int kConsumers = kConsumers_;
  static constexpr int kConsumerRows = kWgmmaConsumerRows;  // the M of one wgmma (tiles.h)
  static constexpr TileShape kTiles =
      kConsumers == 4 ? kWgmmaTiles4 : kConsumers == 3 ? kWgmmaTiles3 : kWgmmaTiles2;
  static constexpr int kBlockQ = kTiles.block_q;
  static constexpr int kBlockK = kTiles.block_k;
  static constexpr int kWarpQ = kTiles.warp_q;
  static constexpr int kThreads = 128 * (1 + kConsumers);
  static constexpr int kQkSteps = kDp / 32;      // k32 steps of S = Q K^T
  static constexpr int kPvSteps = kBlockK / 32;  // k32 steps of O_blk = P V
  static constexpr int kOValues = kDp / 2;       // accumulator registers of a 64 x Dp tile
  // The PV product is 64 x (Dp + 8): the last 8 columns multiply rows of ones under V^T, so the
  // block's product also carries the row sum of its FP8 P (RowSum::kFp8PTensor, tiles.h).
  static constexpr int kPvN = kDp + 8;
  static constexpr int kBlkValues = kPvN / 2;
  static constexpr int kRowSumValue = kOValues;  // blk[kOValues + 2 * half]: row g + 8 * half
  // Q and K rows are Dp bytes: one 128-byte swizzle span at hd128, a 64-byte one at hd64.
  // V^T rows are 128 keys = 128 bytes at every head dim.
  static constexpr wgmma::Swizzle kQkSwizzle =
      kDp == 128 ? wgmma::Swizzle::k128B : wgmma::Swizzle::k64B;
  static constexpr int kQBytes = kBlockQ * kDp;
  static constexpr int kKBytes = kBlockK * kDp;
  static constexpr int kVBytes = kDp * kBlockK;
  // 8 rows of 128 FP8 ones right after V^T: one swizzle atom, so the PV descriptor walks into it
  // as rows Dp..Dp+7 (written once; all bytes equal, so the swizzle does not matter).
  static constexpr int kOnesBytes = 8 * kBlockK;
  static constexpr int kDeltaBytes = kBlockK * 4;
  static constexpr int kKScaleBytes = kScaleGroupsPerWarp * 4;
  // Every tile starts on a 1024-byte boundary: the swizzle atom of SW128 (8 rows x 128 B).
  static constexpr int kAlign = 1024;
  static constexpr int kStageBytes =
      (kKBytes + kVBytes + kOnesBytes + kDeltaBytes + kKScaleBytes + kAlign - 1) / kAlign * kAlign;
  // K/V ring depth: one CTA per SM, so the ring only has to cover a block's load latency behind
  // the other consumers' work; three stages measured the same as two on the H200.
  static constexpr int kStages = 2;
  // Each consumer's 64 x Dp tile of O in the output dtype, staged for the TMA store
  // (wgmma_output_tile.cuh; params.tma_store). Its own memory rather than a dead stage or Q: the
  // other consumers may still read both ring stages, and a consumer's 64 Q rows of INT8 are half
  // the tile. 48 KB at hd128 with three consumers (~142 KB in all of the 227 KB; one CTA per SM
  // either way). Last, on the next 1024-byte boundary (the panels' swizzle atom), so the offsets
  // of everything the block loop touches stay those of the kernel without it.
  static constexpr int kOutBytes = kConsumers * OutputTile<kDp>::kBytes;
  // The head's v_factor and v_mean (kDp floats each), brought in with the Q tile for the
  // epilogue: read from shared memory there instead of global loads behind the output stores.
  // Then, at kQScaleOffset, the tile's Q scales (kBlockQ / kWarpQ groups of kScaleGroupsPerWarp
  // floats), with them: a consumer reads its row pair's scale from shared memory once Q is in.
  static constexpr int kChannelRowBytes = kDp * 4;
  static constexpr int kQScaleOffset = 2 * kChannelRowBytes;
  static constexpr int kQScaleBytes = kBlockQ / kWarpQ * kScaleGroupsPerWarp * 4;
  static constexpr int kChannelBytes = kQScaleOffset + kQScaleBytes;
  // A CTA may walk several tiles (params.ctas < params.items): Q and the channels are double
  // buffered, so the producer loads the next tile's while the consumers finish this one. Item k of
  // the CTA uses buffer k % 2, filled behind q_full[k % 2] and freed by q_empty[k % 2].
  static constexpr int kQBuffers = 2;
  // full and empty per stage; q_full, q_empty and slot_full per Q buffer.
  static constexpr int kBarrierBytes = 8 * (2 * kStages + 3 * kQBuffers);
  // The consumers take turns at the exponentials (exp_turn.cuh): round robin at hd128 (+4-7%
  // over bare barriers, +6-8% over none; H200, run 56), none at hd64 (-10% at L16384 there).
  // -DSAGEATTN_EXP_TURN=0 or 1 overrides both (A/B builds).
  static constexpr ExpTurn kExpTurn = exp_turn_for_head_dim<kDp>();
  // Its two shared words (the pins' +0.0f and sink) follow the barriers; none without a turn.
  static constexpr int kTurnBytes = 4 * exp_turn_words<kExpTurn>();
  // Then one word: whether this CTA is the last of a split tile's CTAs (wgmma_key_split.cuh).
  static constexpr int kSplitFlagBytes = 4;
  // Then per Q buffer the producer's schedule of the item in it: four words (slot_* in the
  // kernel).
  static constexpr int kSlotBytes = 16;
  // + kAlign: the dynamic shared memory base is rounded up to the atom in the kernel.
  static constexpr int kOutOffset =
      (kQBuffers * kQBytes + kStages * kStageBytes + kQBuffers * kChannelBytes + kBarrierBytes +
       kTurnBytes + kSplitFlagBytes + kQBuffers * kSlotBytes + kAlign - 1) /
      kAlign * kAlign;
  static constexpr int kSmemBytes = kAlign + kOutOffset + kOutBytes;
  // Registers per thread after setmaxnreg, 128 * 24 + kConsumers * 128 * kConsumerRegs <= 65536:
  // the producer's two threads only walk the items and the ring; a consumer holds O and O_blk (64
  // each at hd128) and S or P.
  static constexpr int kProducerRegs = 24;
  static constexpr int kConsumerRegs = kConsumers == 2 ? 240 : kConsumers == 3 ? 160 : 112;
  // setmaxnreg only moves registers inside the CTA's launch allocation (the compiled count, a
  // multiple of 8 under 65536 / threads, times the threads): what the consumers add must not
  // exceed what the producer gives back. Four consumers compile at 96 (640 threads): 512 x 16 <=
  // 128 x 72, so 112, not 120 (with 120 the consumers' setmaxnreg.inc waited forever).
  static constexpr int kLaunchRegs = 65536 / kThreads / 8 * 8;
  static_assert(kConsumers * (kConsumerRegs - kLaunchRegs) <= kLaunchRegs - kProducerRegs,
                "setmaxnreg: the consumers' increase must fit in what the producer releases");
  // Named barriers: 0 is __syncthreads', 1..3 the exponentials' turn (exp_turn.cuh), and
  // kOutputTileBarrier + c gathers consumer c's 128 threads before its output tile's TMA store.
  static constexpr int kOutputTileBarrier = 4;
  // The consumers' barrier of the key-split merge (wgmma_key_split.cuh).
  static constexpr int kSplitBarrier = kOutputTileBarrier + kConsumers;
  static_assert(kSplitBarrier < 16, "sm_90 has 16 named barriers");
  // Causal tiles run longest first within groups of this many heads (b * heads_q + h order).
  // Per head, the last heads' long tiles started near the grid's end; over all heads, the CTAs
  // running at once read every head's K and V, more than L2 holds (8 heads' at L16384 hd128:
  // 32 MB). H200, B2 H24, TOPS for per head / all heads / groups of 4, 8, 16 (runs 68, 75):
  // hd128 causal L8192 694 / 712-714 / 715-716 / 721-722 / 720, L16384 831-834 / 835-836 /
  // 845-846 / 846 / 843-845; hd64 L8192 438 / 489 / 489-491 / 488-489 / 488-489, L16384 525 /
  // 572 / 574-576 / 576-577 / 575-577.
  static constexpr int kCausalHeadGroup = 8;
  // The K/V thread sleeps this long between tries at a stage's empty barrier rather than polling:
  // a polling warp takes issue slots from the consumers on its scheduler, and the block it waits
  // to load is needed a block later (~1-2 us), so 128 ns of wake-up delay costs nothing. H200,
  // against polling, three rounds (twelfth session): L4096 735 -> 737-741 TOPS, L32768 926 ->
  // 928-932, Wan 81 frames 933-952 -> 942-958, hd64 L16384 627-631 -> 626-627.
  static constexpr unsigned kKvWaitSleepNs = 128;
  // The Q thread waits an item's time for its next buffer, asleep between tries for the same
  // reason; a wake-up within ~2 us is early enough for a tile copied an item ahead.
  static constexpr unsigned kQWaitSleepNs = 1000;
  // Key splits at both head dims. Before the persistent grid the split's code cost the hd64 loop
  // 5% at L4096 (H200, run 69) and hd64 ran unsplit; the persistent kernel's hd64 loop compiles
  // with it to within 1-5 instructions of its unsplit form (tenth session).
  static constexpr bool kKeySplits = true;
  static_assert(kStages * 2 == kKeySplitBlockMultiple,
                "a key split starts on a multiple of 2 x kStages blocks: stage 0, phase 0");
  static_assert(128 * kProducerRegs + kConsumers * 128 * kConsumerRegs <= 65536, "register file");
  static_assert(kDp == 64 || kDp == 128, "wgmma tiles for head dims 64 and 128");
  static_assert(kOutOffset % OutputTile<kDp>::kAlign == 0, "output tiles on a swizzle atom");
  static_assert(OutputTile<kDp>::kRows == kConsumerRows, "one output box row per consumer row");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory of one sm_90 CTA");
  static_assert(kBlockK == 128, "one QK wgmma is n128: a K block is 128 keys");
  static_assert(kBlockQ == kConsumers * kConsumerRows && (kConsumers >= 2 && kConsumers <= 4) &&
                      (kConsumers < 4 || kDp == 64),
                "two or three consumer warpgroups of 64 rows, or four at hd64");
  static_assert(kWarpQ == 16, "Q scale groups: a warp's 16 rows (per-warp), its row pair (per-thread)");
};

// kDelta: Q smoothing's delta_s row is added to every score (params.attn.delta_s non-null).
// Without it the scale and the running max fold into one FFMA per score (see softmax below).
template <int kDp, int kConsumers, bool kDelta>
__global__ void __launch_bounds__(WgmmaTile<kDp, kConsumers>::kThreads, 1)
    attention_wgmma_kernel(const __grid_constant__ WgmmaAttentionParams params) {
#if SAGEATTN_WGMMA_ENABLED
  using T = WgmmaTile<kDp, kConsumers>;
  const AttentionParams& p = params.attn;
  extern __shared__ std::uint8_t smem_raw[];
  const std::uint32_t raw_addr = ptx::smem_addr(smem_raw);
  const std::uint32_t base = (raw_addr + T::kAlign - 1) & ~static_cast<std::uint32_t>(T::kAlign - 1);
  std::uint8_t* const smem = smem_raw + (base - raw_addr);  // generic pointer of `base`
  // Q buffer 0 and 1, then the ring's stages.
  auto q_tile = [&](int buf) { return base + buf * T::kQBytes; };
  constexpr int kRingOffset = T::kQBuffers * T::kQBytes;
  auto stage_addr = [&](int stage) { return base + kRingOffset + stage * T::kStageBytes; };
  auto k_tile = [&](int stage) { return stage_addr(stage); };
  auto v_tile = [&](int stage) { return stage_addr(stage) + T::kKBytes; };
  auto delta_offset = [&](int stage) {
    return kRingOffset + stage * T::kStageBytes + T::kKBytes + T::kVBytes + T::kOnesBytes;
  };
  // v_factor, v_mean of the tile's head and the tile's Q scales per Q buffer (16-byte aligned for
  // the bulk copies: they follow the 1024-aligned stages), then the barriers, then the
  // consumers' output tiles (T::kOutOffset).
  constexpr int kChannelOffset = kRingOffset + T::kStages * T::kStageBytes;
  auto channel_offset = [&](int buf) { return kChannelOffset + buf * T::kChannelBytes; };
  const std::uint32_t barriers = base + kChannelOffset + T::kQBuffers * T::kChannelBytes;
  auto full_bar = [&](int stage) { return barriers + 8 * stage; };
  auto empty_bar = [&](int stage) { return barriers + 8 * (T::kStages + stage); };
  auto q_full = [&](int buf) { return barriers + 8 * (2 * T::kStages + buf); };
  auto q_empty = [&](int buf) { return barriers + 8 * (2 * T::kStages + T::kQBuffers + buf); };
  // The item's slot is written (by the Q thread, for the K/V thread).
  auto slot_full = [&](int buf) { return barriers + 8 * (2 * T::kStages + 2 * T::kQBuffers + buf); };
  const std::uint32_t turn_words = barriers + T::kBarrierBytes;

  const int q_blocks = p.len_q_pad / T::kBlockQ;
  // The CTA's items (WgmmaAttentionParams): its own index first; then, when fewer CTAs than
  // items run, the next unclaimed item of params.item_counter (first come, first served: with
  // the causal tiles longest first, a greedy longest-processing-time order). The producer claims
  // them and writes each item's schedule into the slot of its Q buffer, behind q_full:
  //   item (params.items: no more), the ring count where its unmasked blocks end and where all
  //   its blocks end, and key block - ring count.
  // Read from shared memory where needed: held in registers across the block loops, such values
  // spilled there at hd128.
  const std::uint32_t slots = turn_words + T::kTurnBytes + T::kSplitFlagBytes;
  auto slot_item = [&](int buf) { return slots + buf * T::kSlotBytes; };
  auto slot_unmasked_end = [&](int buf) { return slots + buf * T::kSlotBytes + 4; };
  auto slot_end = [&](int buf) { return slots + buf * T::kSlotBytes + 8; };
  auto slot_kb_minus_ring = [&](int buf) { return slots + buf * T::kSlotBytes + 12; };
  // An item's tile and keys: the items from split_first_tile on are `splits` per tile, split s
  // over the key blocks [split_begin[s], split_begin[s + 1]).
  struct TilePlace {
    bool split_tile;
    int tile, split;
    int qb;
    std::int64_t bh;  // b * heads_q + h
    int h, b;
  };
  const auto place_of = [&](int item) {
    TilePlace at{item >= params.split_first_tile, item, 0, 0, 0, 0, 0};
    if (at.split_tile) {
      const int past = item - params.split_first_tile;
      at.split = past % params.splits;
      at.tile = params.split_first_tile + past / params.splits;
    }
    const int blocks = p.len_q_pad / T::kBlockQ;
    if (p.causal) {
      // The longest rows first within each group of kCausalHeadGroup heads, so the tail of the
      // grid is short work while the CTAs running at once share few heads' K and V in L2.
      const int heads = p.batch * p.heads_q;
      constexpr int group = T::kCausalHeadGroup;
      const int first_head = at.tile / (group * blocks) * group;
      const int group_heads = min(group, heads - first_head);
      const int local = at.tile - first_head * blocks;
      at.qb = blocks - 1 - local / group_heads;
      at.bh = first_head + local % group_heads;
    } else {
      at.qb = at.tile % blocks;
      at.bh = at.tile / blocks;
    }
    at.h = static_cast<int>(at.bh % p.heads_q);
    at.b = static_cast<int>(at.bh / p.heads_q);
    return at;
  };
  // The key blocks [begin, end) of an item.
  struct KeyRange {
    int begin, end;
  };
  const auto keys_of = [&](const TilePlace& at) {
    const int k_blocks_total = p.len_k_pad / T::kBlockK;
    KeyRange keys{0, k_blocks_total};
    // Causal: up to the tile's last row, (qb + 1) * kBlockQ - 1 - q_lead_rows (the padding rows
    // come first, params.h).
    if (p.causal) {
      keys.end = min(keys.end,
                     ((at.qb + 1) * T::kBlockQ - p.q_lead_rows + T::kBlockK - 1) / T::kBlockK);
    }
    if (T::kKeySplits && at.split_tile) {  // never causal (tiles.h plan_key_split)
      keys.begin = params.split_begin[at.split];
      keys.end = params.split_begin[at.split + 1];
    }
    return keys;
  };
  const auto kv_head_of = [&](const TilePlace& at) {
    const int hkv = at.h / (p.heads_q / p.heads_kv);
    return static_cast<std::int64_t>(at.b) * p.heads_kv + hkv;
  };

  if (threadIdx.x == 0) {
    for (int s = 0; s < T::kStages; ++s) {
      wgmma::mbar_init(full_bar(s), 1);                       // the producer's expect_tx
      wgmma::mbar_init(empty_bar(s), 128 * T::kConsumers);    // every consumer thread
    }
    for (int buf = 0; buf < T::kQBuffers; ++buf) {
      wgmma::mbar_init(q_full(buf), 1);
      wgmma::mbar_init(q_empty(buf), 128 * T::kConsumers);
      wgmma::mbar_init(slot_full(buf), 1);
    }
    wgmma::mbar_init_fence();
    for (int i = 0; i < T::kTurnBytes / 4; ++i) wgmma::shared_store(turn_words + 4 * i, 0);
  }
  // The ones under every stage's V^T (E4M3 1.0 = 0x38), then made visible to the tensor cores'
  // (async proxy) reads before anyone passes the barrier.
  for (int i = threadIdx.x; i < T::kStages * T::kOnesBytes / 4; i += T::kThreads) {
    const int stage = i / (T::kOnesBytes / 4), word = i % (T::kOnesBytes / 4);
    reinterpret_cast<std::uint32_t*>(smem + kRingOffset + stage * T::kStageBytes + T::kKBytes +
                                     T::kVBytes)[word] = 0x38383838u;
  }
  wgmma::fence_proxy_async_shared();
  __syncthreads();

  const int warpgroup = threadIdx.x / 128;
  if (warpgroup == 0) {
    // ---- producer ----
    wgmma::release_registers<T::kProducerRegs>();
    constexpr int kQThread = 32;  // warp 1's first lane; warp 0's is the K/V thread
    if (threadIdx.x == kQThread) {
      // ---- the Q thread ----
      wgmma::prefetch_tensor_map(&params.q_map);
      if (params.tma_store) wgmma::prefetch_tensor_map(&params.out_map);
      // Launched programmatically, the CTA may start before the quantization's last launch ends
      // (grid_dependency.cuh): the two producer threads are the kernel's only readers of what
      // it wrote (the consumers read their copies), so they alone wait, here and below.
      wait_for_prerequisite_grids();
      constexpr std::uint32_t kChannelRowBytes = T::kChannelRowBytes;
      // The ring's block count over the CTA's items, as the slots give it to the consumers.
      int ring = 0;
      for (int k = 0;; ++k) {
        const int buf = k % T::kQBuffers;
        // Buffer buf last held item k - 2: wait until its consumers are done with it and its slot.
        if (k >= T::kQBuffers) {
          wgmma::mbar_wait_sleeping(q_empty(buf), ((k / T::kQBuffers) + 1) & 1, T::kQWaitSleepNs);
        }
        // The CTA's own item first, then claims, each when its buffer frees (item k - 2 done):
        // an item ahead, as late as the tile's copies allow, so that the greedy order (causal:
        // longest first) gives the grid's last items to the CTAs that finish first. Claimed
        // before that (two items ahead), causal L8192 ran 3% slower (H200). The counter wraps to
        // zero on its items-th claim, the last of the launch (each CTA's final claim finds no
        // item), ready for the next launch on the stream.
        const int item =
            k == 0 ? static_cast<int>(blockIdx.x)
            : params.ctas < params.items
                ? params.ctas + static_cast<int>(atomicInc(params.item_counter,
                                                           static_cast<unsigned>(params.items - 1)))
                : params.items;
        wgmma::shared_store(slot_item(buf), item);
        if (item >= params.items) {
          wgmma::mbar_arrive(slot_full(buf));
          wgmma::mbar_arrive(q_full(buf));  // no copies: the consumers read the end and stop
          break;
        }
        const TilePlace at = place_of(item);
        const KeyRange keys = keys_of(at);
        const std::int64_t bhkv = kv_head_of(at);
        // Blocks before first_masked need no mask (all keys valid and, causal, below every row's
        // diagonal): the consumers run them in a copy of the score code without the mask.
        int first_masked = p.len_k / T::kBlockK;
        if (p.causal) {
          first_masked = min(first_masked, max(0, at.qb * T::kBlockQ - p.q_lead_rows) / T::kBlockK);
        }
        const int unmasked_blocks = max(0, min(first_masked, keys.end) - keys.begin);
        wgmma::shared_store(slot_unmasked_end(buf), ring + unmasked_blocks);
        wgmma::shared_store(slot_end(buf), ring + keys.end - keys.begin);
        wgmma::shared_store(slot_kb_minus_ring(buf), keys.begin - ring);
        ring += keys.end - keys.begin;
        // The slot's stores are ordered before the readers' loads by these arrives (release) and
        // their waits (acquire): the K/V thread's on slot_full, the consumers' on q_full.
        wgmma::mbar_arrive(slot_full(buf));
        wgmma::mbar_arrive_expect_tx(q_full(buf), T::kQBytes + T::kQScaleBytes +
                                                      (p.v_factor ? kChannelRowBytes : 0) +
                                                      (p.v_mean ? kChannelRowBytes : 0));
        wgmma::bulk_load(base + channel_offset(buf) + T::kQScaleOffset,
                         p.q_scale + (at.bh * q_blocks + at.qb) * (T::kQScaleBytes / 4),
                         T::kQScaleBytes, q_full(buf));
        wgmma::tma_load_2d(q_tile(buf), &params.q_map, q_full(buf), 0,
                           static_cast<int>(at.bh * p.len_q_pad + at.qb * T::kBlockQ));
        if (p.v_factor) {
          wgmma::bulk_load(base + channel_offset(buf), p.v_factor + bhkv * kDp, kChannelRowBytes,
                           q_full(buf));
        }
        if (p.v_mean) {
          wgmma::bulk_load(base + channel_offset(buf) + kChannelRowBytes, p.v_mean + bhkv * kDp,
                           kChannelRowBytes, q_full(buf));
        }
      }
      return;
    }
    if (threadIdx.x != 0) return;
    // ---- the K/V thread ----
    wgmma::prefetch_tensor_map(&params.k_map);
    wgmma::prefetch_tensor_map(&params.v_map);
    wait_for_prerequisite_grids();
    const std::uint32_t tx_bytes =
        T::kKBytes + T::kVBytes + T::kKScaleBytes + (kDelta ? T::kDeltaBytes : 0);
    const int k_blocks_total = p.len_k_pad / T::kBlockK;
    // The ring's block count over all of the CTA's items: block `ring` sits in stage
    // ring % kStages, its (ring / kStages)-th fill.
    int ring = 0;
    for (int k = 0;; ++k) {
      const int buf = k % T::kQBuffers;
      wgmma::mbar_wait(slot_full(buf), (k / T::kQBuffers) & 1);
      const int item = wgmma::shared_load(slot_item(buf));
      if (item >= params.items) break;
      const TilePlace at = place_of(item);
      const KeyRange keys = keys_of(at);
      const std::int64_t bhkv = kv_head_of(at);
      // The launcher picks kDelta from p.delta_s != nullptr.
      const float* delta_row =
          kDelta ? p.delta_s + (at.bh * q_blocks + at.qb) * p.len_k_pad : nullptr;
      for (int kb = keys.begin; kb < keys.end; ++kb, ++ring) {
        const int stage = ring % T::kStages;
        // The slot was last used by block ring - kStages: wait for its consumers to release it.
        if (ring >= T::kStages) {
          wgmma::mbar_wait_sleeping(empty_bar(stage), ((ring / T::kStages) + 1) & 1,
                                    T::kKvWaitSleepNs);
        }
        const std::uint32_t full = full_bar(stage);
        wgmma::mbar_arrive_expect_tx(full, tx_bytes);
        wgmma::tma_load_2d(k_tile(stage), &params.k_map, full, 0,
                           static_cast<int>(bhkv * p.len_k_pad + kb * T::kBlockK));
        wgmma::tma_load_2d(v_tile(stage), &params.v_map, full, kb * T::kBlockK,
                           static_cast<int>(bhkv * kDp));
        const std::uint32_t extras = base + delta_offset(stage);
        wgmma::bulk_load(extras + T::kDeltaBytes,
                         p.k_scale + (bhkv * k_blocks_total + kb) * kScaleGroupsPerWarp,
                         T::kKScaleBytes, full);
        if constexpr (kDelta) {
          wgmma::bulk_load(extras, delta_row + kb * T::kBlockK, T::kDeltaBytes, full);
        }
      }
    }
    return;
  }
  // ---- consumers ----
  wgmma::claim_registers<T::kConsumerRegs>();
  const float kNegInf = -CUDART_INF_F;
  constexpr float kLn2 = 0.6931471805599453f;
  // The exponentials' turn (exp_turn.cuh): at hd128 the consumers take turns, 0, 1, 2, 0, ..., at
  // the MUFU-bound ex2s and FP8 packing, so one warpgroup's ~500 cycles of ex2 overlap the others'
  // GEMMs instead of all three colliding on the MUFUs (docs/kernels.md). The turns run on across
  // the CTA's items (every consumer runs the same blocks).
  ExpTurnSection<T::kExpTurn, T::kConsumers> turn(turn_words);
  turn.start();
  // The ring's block count over the CTA's items, as the producer counts it.
  int ring = 0;
  for (int k = 0;; ++k) {
    const int buf = k % T::kQBuffers;
    wgmma::mbar_wait(q_full(buf), (k / T::kQBuffers) & 1);
    const int item = wgmma::shared_load(slot_item(buf));
    if (item >= params.items) break;
    const TilePlace at = place_of(item);
    const int consumer = warpgroup - 1;
    const int tid = threadIdx.x % 128;
    const int warp = tid / 32, lane = tid % 32;
    const int g = lane / 4, t = lane % 4;  // accumulator row group and column pair
    // This thread's rows: row_base and row_base + 8 (the accumulator's two halves); negative in
    // the padding rows before row 0 (p.q_lead_rows), which the causal mask masks entirely.
    const int row_base =
        at.qb * T::kBlockQ - p.q_lead_rows + consumer * T::kConsumerRows + warp * 16 + g;
    // Both rows share Q scale group (row / 16, row % 8) of tiles.h.
    const int scale_group = (consumer * T::kConsumerRows + warp * 16) / T::kWarpQ;
    const float q_scale = reinterpret_cast<const float*>(
        smem + channel_offset(buf) + T::kQScaleOffset)[scale_group * kScaleGroupsPerWarp + g];

    float o[T::kOValues];
#pragma unroll
    for (int i = 0; i < T::kOValues; ++i) o[i] = 0.0f;
    float row_max[2] = {kNegInf, kNegInf}, row_sum[2] = {0.0f, 0.0f};

    // S = Q K^T of ring block `ring` into acc (INT32), issued and committed as one wgmma group.
    auto issue_qk = [&](int ring, int (&acc)[64]) {
      const int stage = ring % T::kStages;
      wgmma::mbar_wait(full_bar(stage), (ring / T::kStages) & 1);
      const std::uint64_t k_desc = wgmma::make_desc<T::kQkSwizzle>(k_tile(stage));
      // This consumer's Q rows. At hd128 from buf passed through an opaque move: derived here
      // per block (as when Q had one buffer), not hoisted into a descriptor held across the loop
      // (that cost a register pair and 64-bit adds per k-step there). At hd64 hoisted: that
      // schedule measured faster (H200, run 83).
      const std::uint64_t q_desc = wgmma::make_desc<T::kQkSwizzle>(
          q_tile(kDp == 128 ? ptx::opaque(buf) : buf) +
          (threadIdx.x / 128 - 1) * T::kConsumerRows * kDp);
      wgmma::fence_operands(acc);
      wgmma::fence();
#pragma unroll
      for (int ks = 0; ks < T::kQkSteps; ++ks) {
        wgmma::wgmma_m64n128k32_s32_s8_ss(acc, wgmma::advance_desc(q_desc, ks * 32),
                                          wgmma::advance_desc(k_desc, ks * 32), ks > 0 ? 1 : 0);
      }
      wgmma::commit_group();
    };
    // O_blk = P V^T of ring block `ring` into a fresh accumulator, one wgmma group.
    auto issue_pv = [&](int ring, const std::uint32_t (&pa)[T::kPvSteps][4], float (&blk)[T::kBlkValues]) {
      const std::uint64_t v_desc = wgmma::make_desc<wgmma::Swizzle::k128B>(v_tile(ring % T::kStages));
      wgmma::fence_operands(blk);
      wgmma::fence();
#pragma unroll
      for (int ks = 0; ks < T::kPvSteps; ++ks) {
        if constexpr (kDp == 128) {
          wgmma::wgmma_m64n136k32_f32_e4m3_rs(blk, pa[ks], wgmma::advance_desc(v_desc, ks * 32),
                                              ks > 0 ? 1 : 0);
        } else {
          wgmma::wgmma_m64n72k32_f32_e4m3_rs(blk, pa[ks], wgmma::advance_desc(v_desc, ks * 32),
                                             ks > 0 ? 1 : 0);
        }
      }
      wgmma::commit_group();
    };
    // Scores of block kb in base 2 (int * (q_scale * k_scale) + delta_s, masked), then the online
    // softmax in place: s becomes P = exp2(S - (m - 8)) in [0, 256]; alpha rescales the old O.
    // Without delta_s a thread's scores of one row share two scales (its two K column parities; both
    // rows share the Q scale), all positive: the row max is taken on the raw dot products per
    // parity, scaled twice per row, and P = exp2(fma(dot, scale, 8 - m)) costs one FFMA a score
    // instead of a scale FFMA and a subtraction. The max runs as four independent chains (the
    // scheduler sees ILP instead of one 32-deep dependency chain per row); the row sum is not
    // taken here at all: the PV product's ones column carries it (accumulate below).
    // kb (key block) is read by the masked form only.
    auto softmax = [&](int ring, int kb, const int (&acc)[64], float (&s)[64], float (&alpha)[2],
                       auto masked) {
      constexpr bool kMasked = decltype(masked)::value;
      const auto* extras = reinterpret_cast<const float*>(smem + delta_offset(ring % T::kStages));
      const float2 k_scale = *reinterpret_cast<const float2*>(extras + T::kBlockK + 2 * t);
      // A group of zeros has scale 0; FLT_MIN keeps a masked -inf score -inf (not NaN) when the
      // scale multiplies it, and changes no product of an actual zero dot.
      const float qk_scale[2] = {fmaxf(q_scale * k_scale.x, kDelta ? 0.0f : FLT_MIN),
                                 fmaxf(q_scale * k_scale.y, kDelta ? 0.0f : FLT_MIN)};
      float m_offset[2];
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        if constexpr (kDelta) {
          const float2 d = *reinterpret_cast<const float2*>(extras + 8 * j + 2 * t);
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            // |dot| <= 127 * 127 * 128 < 2^24: the conversion is exact.
            s[4 * j + e] = fmaf(static_cast<float>(acc[4 * j + e]), qk_scale[e & 1], (e & 1) ? d.y : d.x);
          }
        } else {
#pragma unroll
          for (int e = 0; e < 4; ++e) s[4 * j + e] = static_cast<float>(acc[4 * j + e]);
        }
      }
      if constexpr (kMasked) {
        // Keys at or past a row's limit are masked: len_k, and causal, the row's own index + 1.
        const int first_key = kb * T::kBlockK + 2 * t;
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int row = row_base + half * 8;
          const int limit = (p.causal ? min(p.len_k, row + 1) : p.len_k) - first_key;
#pragma unroll
          for (int j = 0; j < 16; ++j)
#pragma unroll
            for (int c = 0; c < 2; ++c) {
              if (8 * j + c >= limit) s[4 * j + 2 * half + c] = kNegInf;
            }
        }
      }
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        // Four chains: (column parity c) x (j even / odd).
        float part[4] = {kNegInf, kNegInf, kNegInf, kNegInf};
#pragma unroll
        for (int j = 0; j < 16; ++j)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            float& m = part[2 * (j & 1) + c];
            m = fmaxf(m, s[4 * j + 2 * half + c]);
          }
        float mx;
        if constexpr (kDelta) {
          mx = fmaxf(fmaxf(part[0], part[1]), fmaxf(part[2], part[3]));
        } else {
          mx = fmaxf(fmaxf(part[0], part[2]) * qk_scale[0], fmaxf(part[1], part[3]) * qk_scale[1]);
        }
        mx = fmaxf(mx, row_max[half]);
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // A row that has seen no key yet keeps -inf; subtract 0 so exp2 never sees inf - inf.
        const float m_safe = mx == kNegInf ? 0.0f : mx;
        alpha[half] = ptx::fast_exp2(row_max[half] - m_safe);
        row_max[half] = mx;
        m_offset[half] = m_safe - kPExponentOffset;
      }
      // Both rows' maxima are known: wait for this warpgroup's turn at the exponentials.
      turn.enter(m_offset);
#pragma unroll
      for (int half = 0; half < 2; ++half) {
#pragma unroll
        for (int j = 0; j < 16; ++j)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            float& x = s[4 * j + 2 * half + c];
            if constexpr (kDelta) {
              x = ptx::fast_exp2(x - m_offset[half]);
            } else {
              x = ptx::fast_exp2(fmaf(x, qk_scale[c], -m_offset[half]));
            }
          }
      }
    };
    // P to the FP8 A fragment: keys {2t, 2t+1, 8+2t, 9+2t} of each 16 sit at k 4t..4t+3, the
    // permutation V^T was stored with (quantize.cu fp8_v_position).
    auto pack_p = [&](const float (&s)[64], std::uint32_t (&pa)[T::kPvSteps][4]) {
#pragma unroll
      for (int ks = 0; ks < T::kPvSteps; ++ks)
#pragma unroll
        for (int reg = 0; reg < 4; ++reg) {
          const int j0 = 4 * ks + (reg / 2) * 2;  // reg 0,1: keys 0..15 of the step; 2,3: 16..31
          const int e0 = (reg % 2) * 2;            // reg 0,2: row g; reg 1,3: row g + 8
          const std::uint32_t lo = ptx::e4m3x2(s[4 * j0 + e0], s[4 * j0 + e0 + 1]);
          const std::uint32_t hi = ptx::e4m3x2(s[4 * (j0 + 1) + e0], s[4 * (j0 + 1) + e0 + 1]);
          pa[ks][reg] = lo | (hi << 16);
        }
    };
    // The block's product is in: release its stage to the producer, O = O * alpha + O_blk and
    // l = l * alpha + the block's row sum (its ones column).
    auto accumulate = [&](int ring, const float (&blk)[T::kBlkValues], const float (&alpha)[2]) {
      wgmma::mbar_arrive(empty_bar(ring % T::kStages));
#pragma unroll
      for (int i = 0; i < T::kOValues; ++i) o[i] = fmaf(o[i], alpha[(i >> 1) & 1], blk[i]);
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        row_sum[half] = fmaf(row_sum[half], alpha[half], blk[T::kRowSumValue + 2 * half]);
      }
    };

    int acc[64];
    float s[64];
    std::uint32_t pa[T::kPvSteps][4];
    float blk[T::kBlkValues];
    float alpha[2];
    // Per block: QK, softmax, PV; the other consumer warpgroups fill the tensor cores meanwhile.
    // (FlashAttention-3's intra-warpgroup pipelining, softmax of block j beside PV of j - 1, was
    // measured slower here: it needs S, P, O and O_blk live at once and spills at 240 registers.)
    auto block = [&](int ring, int kb, auto masked) {
      // ring % kStages and ring / kStages: a mask and a shift, not a signed division's extras.
      __builtin_assume(ring >= 0);
      issue_qk(ring, acc);
      wgmma::wait_group<0>();
      wgmma::fence_operands(acc);
      softmax(ring, kb, acc, s, alpha, masked);
      pack_p(s, pa);
      turn.leave(pa);
      issue_pv(ring, pa, blk);
      wgmma::wait_group<0>();
      wgmma::fence_operands(blk);
      accumulate(ring, blk, alpha);
    };
    // Two loops, not a branch per block: one body of each kind keeps the register allocation of
    // each loop to itself (a branch between both bodies spilled at 160 registers). The unmasked
    // blocks, then the masked ones, their bounds from the item's slot: read at each test (held in
    // a register across the hd128 unmasked loop, the bound spilled there), except the hd64
    // unmasked loop's, read once (that schedule measured 1-2% faster; H200, run 83).
    if constexpr (kDp == 64) {
      for (const int end = wgmma::shared_load(slot_unmasked_end(buf)); ring < end; ++ring) {
        block(ring, 0, std::false_type{});
      }
    } else {
      for (; ring < wgmma::shared_load(slot_unmasked_end(buf)); ++ring) {
        block(ring, 0, std::false_type{});
      }
    }
    for (; ring < wgmma::shared_load(slot_end(buf)); ++ring) {
      block(ring, ring + wgmma::shared_load(slot_kb_minus_ring(buf)), std::true_type{});
    }

    // A split tile's CTA hands its partial over; the last one merges all and stores the tile.
    const TilePlace done = place_of(wgmma::shared_load(slot_item(buf)));
    bool store = true;
    if (T::kKeySplits && done.split_tile) {
      constexpr int kConsumerThreads = 128 * T::kConsumers;
      using Partial = KeySplitPartial<T::kOValues, kConsumerThreads>;
      const int slot = done.tile - params.split_first_tile;
      // This thread among the consumers' (consumer * 128 + warp * 32 + lane), from row_base and t
      // which the loop kept live (threadIdx.x held across it spilled at hd128).
      const int cta_row = (row_base + p.q_lead_rows) % T::kBlockQ;  // consumer * 64 + warp * 16 + g
      const int consumer_thread = (cta_row / 16) * 32 + (cta_row % 16) * 4 + t;
      float4* const tile_partials =
          reinterpret_cast<float4*>(params.split_partials) +
          static_cast<std::int64_t>(slot) * params.splits * Partial::kFloat4s;
      store = merge_key_splits<T::kOValues, kConsumerThreads>(
          tile_partials, params.split_counters + slot, done.split, params.splits, consumer_thread,
          T::kSplitBarrier, turn_words + T::kTurnBytes, o, row_max, row_sum);
    }
    if (store) {

      // ---- epilogue: O = buf * (1 / l) * v_factor + v_mean (epilogue.cuh) ----
      // v_factor and v_mean arrived with Q (q_full, waited before the loop).
      const auto* const channels = reinterpret_cast<const float*>(smem + channel_offset(buf));
      std::int64_t out_off[2];
      bool row_valid[2];
      float inv_l[2];
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        // Every thread of the row's quad holds the whole row sum (the tensor cores summed all keys).
        const float l = row_sum[half];
        const int row = row_base + half * 8;
        row_valid[half] = row >= 0 && row < p.len_q;
        out_off[half] = done.b * p.out_stride_b + done.h * p.out_stride_h + row * p.out_stride_l;
        inv_l[half] = output_row_scale(l);
        // l sums P scaled by 2^8: log2 of the true row sum is log2(l) - 8.
        if (p.lse != nullptr && t == 0 && row_valid[half]) {
          p.lse[done.bh * p.len_q + row] = (row_max[half] + log2f(l) - kPExponentOffset) * kLn2;
        }
      }
      // Accumulator element 4 j + 2 half + e: row g + 8 half, channel 8 j + 2 t + e.
      const SharedChannels shared_channels{channels, channels + kDp, p.v_factor != nullptr,
                                           p.v_mean != nullptr};
      auto value = [&](int half, int j, int e) { return o[4 * j + 2 * half + e]; };
      if (params.tma_store) {
        // Through shared memory and one TMA store per consumer (wgmma_output_tile.cuh). The indices
        // come from row_base, which the loop kept live anyway: at hd128 the loop runs at the register
        // limit, and one more value kept across it (consumer or warp) spilled in the unmasked loop.
        const int cta_row = (row_base + p.q_lead_rows) % T::kBlockQ;  // consumer * 64 + warp * 16 + g
        const int tile_row = cta_row % T::kConsumerRows;
        const int tile_offset =
            T::kOutOffset + (cta_row / T::kConsumerRows) * OutputTile<kDp>::kBytes;
        const int tile_barrier = T::kOutputTileBarrier + cta_row / T::kConsumerRows;
        // The tile's shared memory still feeds the previous item's store.
        const bool leader = tile_row == 0 && t == 0;
        if (k > 0) await_output_tile_read(tile_barrier, leader);
        stage_output_fragment<kDp>(p.out_type, smem + tile_offset, tile_row, t, inv_l,
                                   shared_channels, value);
        store_output_tile<kDp>(&params.out_map, base + tile_offset, tile_barrier, leader,
                               row_base - tile_row, p.len_q, done.h, done.b);
      } else {
        store_output_fragment<2, kDp / 8>(p, out_off, row_valid, inv_l, t, shared_channels, value);
      }
    }
    // Q buffer buf and its channels are free for the producer's item k + 2.
    wgmma::mbar_arrive(q_empty(buf));
  }  // items
  turn.finish();
  // The shared memory must outlive the TMA unit's reads of the last output tile (its leader's
  // bulk group).
  if (params.tma_store && threadIdx.x % 128 == 0) wgmma::bulk_wait_group_read<0>();
#else
  wgmma::sageattn_wgmma_unavailable();
#endif
}

}  // namespace sageattn::cuda
