// The exponentials' turn of the wgmma kernel's consumer warpgroups (attention_wgmma_kernel.cuh,
// docs/kernels.md "The exponentials' token"): who may run the MUFU-bound part of the softmax (the
// ex2 of both rows and, by default, the FP8 packing of P) at a time. It orders instructions in
// time only: no data passes through it, so it cannot change a result, only when it is computed.
//
// Compile-time choice (ExpTurn): kRoundRobin, the production choice at hd128, and kNone at hd64,
// unless the build defines SAGEATTN_EXP_TURN (then that value for both head dims, for A/B runs):
//   -DSAGEATTN_EXP_TURN=0  kNone                no turn
//   -DSAGEATTN_EXP_TURN=1  kRoundRobin          fixed order 0, 1, 2, 0, ... (named barriers 1..C),
//                                               as measured in runs 53-54: unpinned (below)
//   -DSAGEATTN_EXP_TURN=2  kFirstReady          pinned; the warpgroup whose scores are ready
//                                               first goes first (a ticket per warpgroup, block)
//   -DSAGEATTN_EXP_TURN=3  kFirstReadyPerWarp   pinned; the same per warp: warp w of each
//                                               consumer takes turns with the others' warp w only
//   -DSAGEATTN_EXP_TURN=4  kRoundRobinPinned    kRoundRobin's order, pinned
// e.g. cmake ... -DCMAKE_CUDA_FLAGS="-DSAGEATTN_EXP_TURN=2" (devrun-tokready.sh builds several).
//
// Pinned: ptxas schedules register-only instructions across bar.sync / bar.arrive as it likes
// (they order memory, not registers). In kRoundRobin as built (ptxas 13.0, SASS 2026-11-30) it
// issues the release's BAR.ARV right after the acquire's BAR.SYNC and all 64 ex2 and 32 F2FP
// after both, with a third of the row max: the "turn" covers nothing, and what runs 53-54
// measured (+1.5-2% at hd128) is a stagger (consumer c passes only after c - 1 reached the same
// point), not mutual exclusion. A pinned turn makes the ex2s depend on it through shared memory,
// which ptxas must keep on its side of a barrier: before acquiring, a store of both rows' offsets
// (so the row max stays before the turn); after it, a load of a word that holds +0.0f, added to
// the offsets every exponent's argument subtracts (exact: x + 0 = x, and -0 vs +0 at most flips
// a zero's sign inside the FFMA, whose ex2 is 1 either way); before releasing, a store of the
// XOR of the 16 packed P words (all ex2 and all packing done). Cost per block and thread: two
// STS, one LDS, ~10 ALU instructions, and the LDS's latency at the start of each turn. Why no
// turn over the ex2s alone (without the packing): pinning the 64 ex2 results would take 32 more
// LOP3s a block.
//
// Why first-ready: with a fixed order a consumer whose QK result comes late (the three share the
// tensor cores) holds up every later turn, although another consumer's scores are waiting.
// Why a ticket and named barriers rather than a spin lock in shared memory: a spinning
// atom.shared (CAS / exch) is an MIO instruction, the queue the MUFU ex2s go through (the token
// exists because of MIO throttle), and __nanosleep backoff adds its wake-up slack (the sleep is
// only approximate) to every hand-over; a mutex is also not FIFO. A ticket costs one atom.inc per
// warpgroup (per warp) and block, taken right after the QK wait so its latency hides under the
// I2F and row max; the wait itself is bar.sync on a hardware barrier (no issue slots, hand-over
// as fast as the round robin's). Ticket n waits for ticket n - 1's release: a FIFO in the order
// the consumers' scores became ready. (kFirstReady's extra cost: two 128-thread barriers per
// block inside the warpgroup, one to let its warps in, one to see them all done.)
//
// Memory ordering: the counter needs atomicity only (unique tickets): relaxed atomics suffice,
// since the turn protects no data; the hand-over is bar.arrive / bar.sync, and the ticket goes
// from the thread that took it to its warp by a shuffle, never through memory.
#pragma once

#include <cstdint>

#include "cuda/wgmma.cuh"

namespace sageattn::cuda {

enum class ExpTurn : int {
  kNone = 0,
  kRoundRobin = 1,
  kFirstReady = 2,
  kFirstReadyPerWarp = 3,
  kRoundRobinPinned = 4,
};

// The production choice (runs 53-54): round robin at hd128 (+1.5-2% at every shape), none at
// hd64 (the token cost 3% at L16384 there).
template <int kDp>
constexpr ExpTurn exp_turn_for_head_dim() {
#if defined(SAGEATTN_EXP_TURN)
  static_assert(SAGEATTN_EXP_TURN >= 0 && SAGEATTN_EXP_TURN <= 4, "SAGEATTN_EXP_TURN is 0..4");
  return static_cast<ExpTurn>(SAGEATTN_EXP_TURN);
#else
  return kDp == 128 ? ExpTurn::kRoundRobin : ExpTurn::kNone;
#endif
}

constexpr bool exp_turn_pinned(ExpTurn turn) {
  return turn == ExpTurn::kFirstReady || turn == ExpTurn::kFirstReadyPerWarp ||
         turn == ExpTurn::kRoundRobinPinned;
}
// Shared memory words the turn needs (zeroed before the CTA's first __syncthreads): pinned, the
// +0.0f word and the sink word, then the ticket counter (kFirstReady) or one counter per warp of
// a warpgroup (kFirstReadyPerWarp). None for kRoundRobin: its build stays as measured.
template <ExpTurn kTurn>
constexpr int exp_turn_words() {
  return (exp_turn_pinned(kTurn) ? 2 : 0) + (kTurn == ExpTurn::kFirstReady          ? 1
                                             : kTurn == ExpTurn::kFirstReadyPerWarp ? 4
                                                                                    : 0);
}
inline constexpr int kTurnZeroWord = 0, kTurnSinkWord = 1, kTurnCounterWord = 2;

// The barrier protocol of each order (ExpTurnSection below adds the pins). Per K block the
// consumer calls, in this order:
//   ready()    after the QK wait (takes the ticket),
//   acquire()  after both rows' maxima (waits for the turn),
//   release()  after the ex2s and the packing (hands it on);
// start() once before the block loops, finish() once after them. Every consumer runs the same
// number of blocks (k_blocks depends on the CTA only), so each call sequence is the same length.
//
// No deadlock, for any k_blocks >= 0, masked or not, 2 or 3 consumers: between acquire() and
// release() a holder waits on nothing (ex2, cvt, the pins' shared store and load; kFirstReady's
// warp 0 waits for its own three warps, which wait on nothing), so whoever holds the turn hands
// it on; kRoundRobin's turn c of block kb waits only for turn c - 1 of block kb (or turn
// C - 1 of block kb - 1), and kFirstReady's ticket n only for ticket n - 1, which was taken
// earlier by a consumer already past its QK wait. And no arrival is left pending when the CTA
// exits (the named barriers' state is the SM's): see each case.
template <ExpTurn kTurn, int kConsumers>
class ExpTurnGate;

// The tickets' counter counts up without wrapping (atom.inc with the largest limit: unlike
// atom.add of a constant, ptxas does not turn it into a warp-aggregated atomic, ten instructions
// for the one thread that takes a ticket). A CTA takes C * k_blocks tickets: far below it.
inline constexpr int kNoWrap = 0x7fffffff;

template <int kConsumers>
class ExpTurnGate<ExpTurn::kNone, kConsumers> {
 public:
  __device__ __forceinline__ ExpTurnGate(std::uint32_t, int) {}
  __device__ __forceinline__ void start() {}
  __device__ __forceinline__ void ready() {}
  __device__ __forceinline__ void acquire() {}
  __device__ __forceinline__ void release() {}
  __device__ __forceinline__ void finish() {}
};

// Named barrier 1 + c is consumer c's turn (256 threads): c's own 128 threads bar.sync on it, the
// previous consumer's 128 bar.arrive on it after their exponentials. Consumer C - 1 passes the
// first turn to 0 in start(); consumer 0 takes the pass consumer C - 1 makes after its last block
// in finish(), so every arrival has its sync. The consumer index is recomputed from threadIdx
// rather than kept: one register fewer across the loop (160 is tight at hd128).
template <int kConsumers>
class ExpTurnGate<ExpTurn::kRoundRobin, kConsumers> {
 public:
  __device__ __forceinline__ ExpTurnGate(std::uint32_t, int) {}
  __device__ __forceinline__ void start() {
    if (consumer() == kConsumers - 1) wgmma::named_barrier_arrive(1, 256);
  }
  __device__ __forceinline__ void ready() {}
  __device__ __forceinline__ void acquire() { wgmma::named_barrier_sync(1 + consumer(), 256); }
  __device__ __forceinline__ void release() {
    wgmma::named_barrier_arrive(1 + (consumer() + 1) % kConsumers, 256);
  }
  __device__ __forceinline__ void finish() {
    if (consumer() == 0) wgmma::named_barrier_sync(1, 256);
  }

 private:
  __device__ __forceinline__ static int consumer() { return static_cast<int>(threadIdx.x / 128) - 1; }
};

// Tickets from one counter for the whole CTA, C * k_blocks of them (every consumer takes one per
// block); only warp 0 of a consumer holds its ticket. The turn of ticket n:
//   acquire: warp 0 waits on named barrier 1 + n % 4 (64 threads: ticket n - 1's warp 0 arrives
//            there at its release), then lets its three other warps go through the warpgroup's
//            barrier 5 + c (128 threads, all four warps sync; ids 5-7 with three consumers);
//   release: warps 1-3 arrive on the warpgroup's barrier 8 + c when their exponentials are done,
//            warp 0 waits there (128 threads) and then arrives on 1 + (n + 1) % 4.
// So no thread but warp 0 needs the ticket (no broadcast through shared memory), and every
// barrier id but the four turn barriers is fixed per consumer. Four turn barriers rather than C:
// n % 4 is one AND.
// Start and end: consumer C - 1's warp 0 releases "ticket -1" in start() (as the round robin
// does), and the holder of the last ticket hands on to nobody, so every arrival has its wait. Not
// a drain by a fixed consumer after its loop as in the round robin: here that consumer can finish
// while ticket C * k_blocks - 4 is still to be taken, and its wait would join that ticket's phase
// (a deadlock). Only the last ticket's holder knows it is last.
// Barrier reuse: 1 + n % 4 serves tickets n, n + 4, ...; at most C <= 3 tickets are unreleased
// at once (a consumer takes its next ticket only after releasing its last one), so ticket n + 4
// cannot be taken, nor n + 3 released, before ticket n's wait completed: the phases never mix.
// 5 + c and 8 + c: warps 1-3 cannot arrive twice on 8 + c before warp 0 waited there once, since
// in between they pass 5 + c, where warp 0 arrives only after that wait (and 5 + c is sync-only).
template <int kConsumers>
class ExpTurnGate<ExpTurn::kFirstReady, kConsumers> {
 public:
  __device__ __forceinline__ ExpTurnGate(std::uint32_t words, int k_blocks)
      : words_(words), last_(kConsumers * k_blocks - 1) {}
  __device__ __forceinline__ void start() {
    if (consumer() == kConsumers - 1 && warp0()) wgmma::named_barrier_arrive(1, 64);
  }
  // The QK result is in: this warpgroup is ready; its elected thread takes the next ticket.
  __device__ __forceinline__ void ready() {
    if (threadIdx.x % 128 == 0) {
      ticket_ = wgmma::shared_fetch_inc_wrap(words_ + 4 * kTurnCounterWord, kNoWrap);
    }
  }
  __device__ __forceinline__ void acquire() {
    if (warp0()) {
      ticket_ = __shfl_sync(0xffffffffu, ticket_, 0);
      wgmma::named_barrier_sync(1 + (ticket_ & 3), 64);
    }
    wgmma::named_barrier_sync(5 + consumer(), 128);
  }
  __device__ __forceinline__ void release() {
    if (warp0()) {
      wgmma::named_barrier_sync(8 + consumer(), 128);
      if (ticket_ != last_) wgmma::named_barrier_arrive(1 + ((ticket_ + 1) & 3), 64);
    } else {
      wgmma::named_barrier_arrive(8 + consumer(), 128);
    }
  }
  __device__ __forceinline__ void finish() {}

 private:
  __device__ __forceinline__ static int consumer() { return static_cast<int>(threadIdx.x / 128) - 1; }
  __device__ __forceinline__ static bool warp0() { return threadIdx.x % 128 < 32; }
  std::uint32_t words_;
  int last_;
  int ticket_ = 0;
};

// The same ticket scheme per warp: warp w of every consumer (they share sub-partition w, whose
// MUFU the ex2s contend for) takes tickets from counter w and waits on named barrier
// 1 + w * C + n % C (64 threads: the previous holder's warp arrives, this warp syncs; ids 1..12
// with three consumers, so n % C here, a multiply-high, not n % 4). No broadcast inside the
// warpgroup (a shuffle hands lane 0's ticket to its warp): cheaper than kFirstReady, but the
// four warps of a consumer may get different places in their four queues (they become ready
// together, so rarely); the PV wgmma then waits for the warpgroup's last warp. Start, end,
// deadlock freedom and barrier reuse (every C tickets, at most C unreleased) as above, per counter.
template <int kConsumers>
class ExpTurnGate<ExpTurn::kFirstReadyPerWarp, kConsumers> {
 public:
  __device__ __forceinline__ ExpTurnGate(std::uint32_t words, int k_blocks)
      : words_(words), last_(kConsumers * k_blocks - 1) {}
  __device__ __forceinline__ void start() {
    if (consumer() == kConsumers - 1) wgmma::named_barrier_arrive(barrier(0), 64);
  }
  __device__ __forceinline__ void ready() {
    if (threadIdx.x % 32 == 0) {
      ticket_ = wgmma::shared_fetch_inc_wrap(words_ + 4 * (kTurnCounterWord + warp()), kNoWrap);
    }
  }
  __device__ __forceinline__ void acquire() {
    ticket_ = __shfl_sync(0xffffffffu, ticket_, 0);
    wgmma::named_barrier_sync(barrier(ticket_ % kConsumers), 64);
  }
  __device__ __forceinline__ void release() {
    if (ticket_ != last_) wgmma::named_barrier_arrive(barrier((ticket_ + 1) % kConsumers), 64);
  }
  __device__ __forceinline__ void finish() {}

 private:
  __device__ __forceinline__ static int consumer() { return static_cast<int>(threadIdx.x / 128) - 1; }
  __device__ __forceinline__ static int warp() { return static_cast<int>(threadIdx.x / 32) % 4; }
  __device__ __forceinline__ static int barrier(unsigned slot) {
    return 1 + warp() * kConsumers + static_cast<int>(slot);
  }
  std::uint32_t words_;
  unsigned last_;
  unsigned ticket_ = 0;  // unsigned: n % C without the signed fix-ups
};

// kRoundRobinPinned: the round robin's barriers.
template <int kConsumers>
class ExpTurnGate<ExpTurn::kRoundRobinPinned, kConsumers>
    : public ExpTurnGate<ExpTurn::kRoundRobin, kConsumers> {
 public:
  using ExpTurnGate<ExpTurn::kRoundRobin, kConsumers>::ExpTurnGate;
};

// What the kernel calls: the protocol plus, where pinned, the dependences through shared memory
// that keep the row max before the turn and the ex2s and packing inside it (see the top).
template <ExpTurn kTurn, int kConsumers>
class ExpTurnSection {
 public:
  __device__ __forceinline__ ExpTurnSection(std::uint32_t words, int k_blocks)
      : gate_(words, k_blocks), words_(words) {}
  __device__ __forceinline__ void start() { gate_.start(); }
  __device__ __forceinline__ void ready() { gate_.ready(); }
  // m_offset: both rows' m - 8, which every exponent's argument subtracts.
  __device__ __forceinline__ void enter(float (&m_offset)[2]) {
    if constexpr (kPinned) {
      wgmma::shared_store(words_ + 4 * kTurnSinkWord, __float_as_int(m_offset[0] + m_offset[1]));
    }
    gate_.acquire();
    if constexpr (kPinned) {
      const float zero = __int_as_float(wgmma::shared_load(words_ + 4 * kTurnZeroWord));
      m_offset[0] += zero;
      m_offset[1] += zero;
    }
  }
  // pa: the packed FP8 P, the turn's last results.
  template <int kSteps>
  __device__ __forceinline__ void leave(const std::uint32_t (&pa)[kSteps][4]) {
    if constexpr (kPinned) {
      std::uint32_t all = 0;
#pragma unroll
      for (int ks = 0; ks < kSteps; ++ks)
#pragma unroll
        for (int r = 0; r < 4; ++r) all ^= pa[ks][r];
      wgmma::shared_store(words_ + 4 * kTurnSinkWord, static_cast<int>(all));
    }
    gate_.release();
  }
  __device__ __forceinline__ void finish() { gate_.finish(); }

 private:
  static constexpr bool kPinned = exp_turn_pinned(kTurn);
  ExpTurnGate<kTurn, kConsumers> gate_;
  std::uint32_t words_;
};

static_assert(1 + 4 + 3 + 3 <= 16 && 1 + 4 * 3 <= 16, "named barriers: id 0 and at most 15 others");

}  // namespace sageattn::cuda
