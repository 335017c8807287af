// The exponentials' turn of the wgmma kernel's consumer warpgroups (attention_wgmma_kernel.cuh,
// docs/kernels.md "The exponentials' turn"): the consumers take turns, 0, 1, 2, 0, ..., at the
// MUFU-bound part of the softmax (the ex2 of both rows and the FP8 packing of P), so one
// warpgroup's ~500 cycles of ex2 overlap the others' GEMMs and conversions instead of all three
// colliding on each sub-partition's MUFU and then all three queuing on the tensor cores. It
// orders instructions in time only: no data passes through it, so it cannot change a result.
//
// Compile-time choice (ExpTurn): kRoundRobin at hd128, kNone at hd64, unless the build defines
// SAGEATTN_EXP_TURN (0 = none, 1 = round robin, for both head dims: A/B builds), e.g.
// cmake ... -DCMAKE_CUDA_FLAGS="-DSAGEATTN_EXP_TURN=0".
//
// Pinned: ptxas schedules register-only instructions across bar.sync / bar.arrive as it likes
// (they order memory, not registers). With bare barriers (sixth session, runs 53-54) it issued
// the release's BAR.ARV right after the acquire's BAR.SYNC and all 64 ex2 and 32 F2FP after both:
// the turn covered nothing and only staggered the bursts' starts (+1.5-2% at hd128). So the turn
// makes the ex2s depend on it through shared memory, which ptxas must keep on its side of a
// barrier: before acquiring, a store of both rows' offsets (the row max stays before the turn);
// after it, a load of a word that holds +0.0f, added to the offsets every exponent's argument
// subtracts (exact: x + 0 = x; -0 + +0 only flips a zero's sign inside the FFMA, whose ex2 is 1
// either way); before releasing, a store of the XOR of the 16 packed P words (all ex2 and all
// packing done). Cost per block and thread: two STS, one LDS, ~10 ALU instructions. Measured
// on the H200 (seventh session, run 56, three builds in alternating processes): hd128 +4-7% over
// the bare barriers (L4096 662 -> 692 TOPS, L16384 838 -> 885-892, L32768 864 -> 898-903, Wan 81
// frames 858-862 -> 891-919, causal L16384 763-768 -> 816); at hd64 -10% at L16384 (589 -> 529),
// where the MUFU is the bottleneck itself and a turn only idles it. A first-ready order (a ticket
// by atom.shared.inc after the QK wait, pinned the same way) measured 855 at L16384: a fixed
// order hands on faster than a ticket's extra barriers (local branch token-ready has it).
#pragma once

#include <cstdint>

#include "cuda/wgmma.cuh"

namespace sageattn::cuda {

enum class ExpTurn : int {
  kNone = 0,
  kRoundRobin = 1,
};

template <int kDp>
constexpr ExpTurn exp_turn_for_head_dim() {
#if defined(SAGEATTN_EXP_TURN)
  static_assert(SAGEATTN_EXP_TURN == 0 || SAGEATTN_EXP_TURN == 1, "SAGEATTN_EXP_TURN is 0 or 1");
  return static_cast<ExpTurn>(SAGEATTN_EXP_TURN);
#else
  return kDp == 128 ? ExpTurn::kRoundRobin : ExpTurn::kNone;
#endif
}

// Shared memory words the turn needs, zeroed before the CTA's first __syncthreads: the +0.0f word
// and the sink word the pins store to.
template <ExpTurn kTurn>
constexpr int exp_turn_words() {
  return kTurn == ExpTurn::kRoundRobin ? 2 : 0;
}
inline constexpr int kTurnZeroWord = 0, kTurnSinkWord = 1;

// What the kernel calls, per K block in this order: enter(m_offset) after both rows' maxima,
// leave(pa) after the ex2s and the packing; start() once before the block loops, finish() once
// after them. Every consumer runs the same number of blocks (k_blocks depends on the CTA only).
template <ExpTurn kTurn, int kConsumers>
class ExpTurnSection;

template <int kConsumers>
class ExpTurnSection<ExpTurn::kNone, kConsumers> {
 public:
  __device__ __forceinline__ explicit ExpTurnSection(std::uint32_t) {}
  __device__ __forceinline__ void start() {}
  __device__ __forceinline__ void enter(float (&)[2]) {}
  template <int kSteps>
  __device__ __forceinline__ void leave(const std::uint32_t (&)[kSteps][4]) {}
  __device__ __forceinline__ void finish() {}
};

// Named barrier 1 + c is consumer c's turn (256 threads): c's own 128 threads bar.sync on it, the
// previous consumer's 128 bar.arrive on it after their exponentials. Consumer C - 1 passes the
// first turn to 0 in start(); consumer 0 takes the pass consumer C - 1 makes after its last block
// in finish(), so every arrival has its sync when the CTA exits (the named barriers' state is the
// SM's). No deadlock: between enter and leave a holder waits on nothing, and turn c of block kb
// waits only for turn c - 1 of block kb (or turn C - 1 of block kb - 1). The consumer index is
// recomputed from threadIdx rather than kept: one register fewer across the loop (an earlier
// version that held it spilled in the loop at 160 registers).
template <int kConsumers>
class ExpTurnSection<ExpTurn::kRoundRobin, kConsumers> {
 public:
  __device__ __forceinline__ explicit ExpTurnSection(std::uint32_t words) : words_(words) {}
  __device__ __forceinline__ void start() {
    if (consumer() == kConsumers - 1) wgmma::named_barrier_arrive(1, 256);
  }
  // m_offset: both rows' m - 8, which every exponent's argument subtracts.
  __device__ __forceinline__ void enter(float (&m_offset)[2]) {
    wgmma::shared_store(words_ + 4 * kTurnSinkWord, __float_as_int(m_offset[0] + m_offset[1]));
    wgmma::named_barrier_sync(1 + consumer(), 256);
    const float zero = __int_as_float(wgmma::shared_load(words_ + 4 * kTurnZeroWord));
    m_offset[0] += zero;
    m_offset[1] += zero;
  }
  // pa: the packed FP8 P, the turn's last results.
  template <int kSteps>
  __device__ __forceinline__ void leave(const std::uint32_t (&pa)[kSteps][4]) {
    std::uint32_t all = 0;
#pragma unroll
    for (int ks = 0; ks < kSteps; ++ks)
#pragma unroll
      for (int r = 0; r < 4; ++r) all ^= pa[ks][r];
    wgmma::shared_store(words_ + 4 * kTurnSinkWord, static_cast<int>(all));
    wgmma::named_barrier_arrive(1 + (consumer() + 1) % kConsumers, 256);
  }
  __device__ __forceinline__ void finish() {
    if (consumer() == 0) wgmma::named_barrier_sync(1, 256);
  }

 private:
  __device__ __forceinline__ static int consumer() { return static_cast<int>(threadIdx.x / 128) - 1; }
  std::uint32_t words_;
};

}  // namespace sageattn::cuda
