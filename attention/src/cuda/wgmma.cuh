// PTX wrappers of the Hopper (sm_90a) instructions the wgmma kernels use: warpgroup MMA (wgmma)
// with shared-memory matrix descriptors, mbarriers, TMA tensor and bulk copies, register
// reallocation (setmaxnreg). Raw PTX rather than CuTe: builds in seconds, and the register order
// and scale-d of every MMA stay explicit, which the golden model's contract needs
// (hopper-path.md section 7).
//
// wgmma and setmaxnreg exist only on sm_90a. This header is compiled for every arch of
// SAGEGEN_CUDA_ARCHS, so each wrapper emits its instruction only where the arch has it and traps
// elsewhere; the host never launches these kernels off sm_90 (backend.cpp checks the device).
#pragma once

#include <cstdint>
#include <type_traits>

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SAGEATTN_WGMMA_ENABLED 1
#else
#define SAGEATTN_WGMMA_ENABLED 0
#endif

namespace sageattn::cuda::wgmma {

__device__ __forceinline__ void sageattn_wgmma_unavailable() {
#if defined(__CUDA_ARCH__)
  __trap();
#endif
}

// ---- shared-memory matrix descriptors (PTX ISA "Matrix Descriptor Format") ----
// K-major operand tiles whose rows are one swizzle span wide (128 B: SW128, 64 B: SW64), as TMA
// writes them with the matching CU_TENSOR_MAP_SWIZZLE mode: 8-row atoms stacked at 8 * span
// bytes (the stride byte offset); the leading byte offset is unused for swizzled K-major tiles
// (1 by convention). The tile base must be aligned to the atom (8 * span bytes) so the hardware's
// address-based swizzle matches TMA's; a k-step inside the span advances the start address by
// its bytes.
enum class Swizzle : int { k64B = 2, k128B = 1 };  // the descriptor's layout-type field

template <Swizzle kSwizzle>
__device__ __forceinline__ std::uint64_t make_desc(std::uint32_t smem_addr) {
  constexpr std::uint64_t kSpan = kSwizzle == Swizzle::k128B ? 128 : 64;
  constexpr std::uint64_t kStrideBytes = 8 * kSpan;
  std::uint64_t desc = (smem_addr & 0x3FFFFu) >> 4;        // bits 0-13: start address / 16
  desc |= std::uint64_t{1} << 16;                          // bits 16-29: leading byte offset / 16
  desc |= (kStrideBytes >> 4) << 32;                       // bits 32-45: stride byte offset / 16
  desc |= static_cast<std::uint64_t>(kSwizzle) << 62;      // bits 62-63: swizzle mode
  return desc;
}
// The same descriptor moved `bytes` (a multiple of 16) further along K.
__device__ __forceinline__ std::uint64_t advance_desc(std::uint64_t desc, std::uint32_t bytes) {
  return desc + (bytes >> 4);
}

// ---- warpgroup MMA sequencing ----
__device__ __forceinline__ void fence() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void commit_group() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int kPending>
__device__ __forceinline__ void wait_group() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
#endif
}
// wgmma writes its accumulators asynchronously, but the compiler sees them written at the
// issuing asm statement. Passing every accumulator through an empty volatile asm after the wait
// (and before the issue) pins reads and writes of them to the right side of the MMA.
template <typename T, int kN>
__device__ __forceinline__ void fence_operands(T (&r)[kN]) {
#pragma unroll
  for (int i = 0; i < kN; ++i) {
    if constexpr (std::is_integral_v<T>) {
      asm volatile("" : "+r"(r[i])::"memory");
    } else {
      asm volatile("" : "+f"(r[i])::"memory");
    }
  }
}

// ---- register reallocation between the producer and consumer warpgroups ----
template <int kRegs>
__device__ __forceinline__ void release_registers() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegs));
#endif
}
template <int kRegs>
__device__ __forceinline__ void claim_registers() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegs));
#endif
}

// ---- mbarriers (shared::cta, 64-bit) ----
// Orders this thread's generic-proxy shared memory writes before later async-proxy reads
// (TMA, wgmma operands).
__device__ __forceinline__ void fence_proxy_async_shared() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void mbar_init(std::uint32_t bar, std::uint32_t count) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
#endif
}
// Makes the initialised barriers visible to the async proxy (TMA) before first use.
__device__ __forceinline__ void mbar_init_fence() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}
// Named barriers (bar.sync / bar.arrive with an id and a thread count): the warpgroups' token
// for the exponentials (exp_turn.cuh) and each consumer's output tile (attention_wgmma_kernel.cuh).
// Id 0 is __syncthreads'.
__device__ __forceinline__ void named_barrier_sync(int id, int threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_barrier_arrive(int id, int threads) {
  asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// Shared memory words of the exponentials' turn (exp_turn.cuh): plain 32-bit stores and loads.
// Volatile: each must stay where the turn puts it (the pins around the barriers).
__device__ __forceinline__ void shared_store(std::uint32_t addr, int value) {
  asm volatile("st.shared::cta.u32 [%0], %1;\n" ::"r"(addr), "r"(value) : "memory");
}
__device__ __forceinline__ int shared_load(std::uint32_t addr) {
  int value;
  asm volatile("ld.shared::cta.u32 %0, [%1];\n" : "=r"(value) : "r"(addr) : "memory");
  return value;
}
__device__ __forceinline__ void mbar_arrive(std::uint32_t bar) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
#endif
}
// One arrival that also announces `bytes` of TMA traffic the phase must wait for.
__device__ __forceinline__ void mbar_arrive_expect_tx(std::uint32_t bar, std::uint32_t bytes) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
#endif
}
__device__ __forceinline__ bool mbar_try_wait(std::uint32_t bar, std::uint32_t parity) {
#if SAGEATTN_WGMMA_ENABLED
  std::uint32_t done;
  asm volatile(
      "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n}\n"
      : "=r"(done)
      : "r"(bar), "r"(parity)
      : "memory");
  return done != 0;
#else
  return true;
#endif
}
// Waits for the phase of the given parity to complete.
__device__ __forceinline__ void mbar_wait(std::uint32_t bar, std::uint32_t parity) {
  while (!mbar_try_wait(bar, parity)) {
  }
}

// The same wait with a sleep of about `ns` nanoseconds between tries, for a thread that waits
// long and need not wake at once: its warp then takes (almost) no issue slots from the warps that
// work meanwhile.
__device__ __forceinline__ void mbar_wait_sleeping(std::uint32_t bar, std::uint32_t parity,
                                                   unsigned ns) {
  while (!mbar_try_wait(bar, parity)) __nanosleep(ns);
}

// ---- TMA ----
// A 2D tile of the tensor map's box at (inner, outer) element coordinates into shared memory;
// completes `bar`'s transaction count by the box's bytes.
__device__ __forceinline__ void tma_load_2d(std::uint32_t dst, const void* tensor_map,
                                            std::uint32_t bar, int inner, int outer) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4}], [%2];\n" ::"r"(dst),
      "l"(reinterpret_cast<std::uint64_t>(tensor_map)), "r"(bar), "r"(inner), "r"(outer)
      : "memory");
#endif
}
// A contiguous copy of `bytes` (a multiple of 16; both addresses 16-byte aligned).
__device__ __forceinline__ void bulk_load(std::uint32_t dst, const void* src, std::uint32_t bytes,
                                          std::uint32_t bar) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::
          "r"(dst),
      "l"(src), "r"(bytes), "r"(bar)
      : "memory");
#endif
}
// A 4D box of the tensor map from shared memory at `src` to global memory at element coordinates
// (c0, c1, c2, c3), innermost first; elements outside the map's extents are not written. Joins
// this thread's bulk async-group: commit it, then wait before the source is reused or freed.
__device__ __forceinline__ void tma_store_4d(const void* tensor_map, std::uint32_t src, int c0,
                                             int c1, int c2, int c3) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile(
      "cp.async.bulk.tensor.4d.global.shared::cta.bulk_group [%0, {%2, %3, %4, %5}], [%1];\n" ::"l"(
          reinterpret_cast<std::uint64_t>(tensor_map)),
      "r"(src), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
      : "memory");
#endif
}
__device__ __forceinline__ void bulk_commit_group() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
#endif
}
// Until at most kPending of this thread's committed bulk groups still read their shared memory
// sources (the global writes may still be in flight; they complete before the grid does).
template <int kPending>
__device__ __forceinline__ void bulk_wait_group_read() {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(kPending) : "memory");
#endif
}
__device__ __forceinline__ void prefetch_tensor_map(const void* tensor_map) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<std::uint64_t>(tensor_map))
               : "memory");
#endif
}

// ---- the MMA shapes of the sage2-8b kernel ----
// S (+)= A B^T for a 64x128 tile, INT8 x INT8 -> INT32, both operands from shared memory
// (K-major descriptors). scale_d = 0: D = A B^T; 1: D += A B^T.
__device__ __forceinline__ void wgmma_m64n128k32_s32_s8_ss(int (&d)[64], std::uint64_t desc_a,
                                                           std::uint64_t desc_b, int scale_d) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p;\n}\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]),
        "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]),
        "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]),
        "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31]),
        "+r"(d[32]), "+r"(d[33]), "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]), "+r"(d[38]), "+r"(d[39]),
        "+r"(d[40]), "+r"(d[41]), "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]), "+r"(d[46]), "+r"(d[47]),
        "+r"(d[48]), "+r"(d[49]), "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]), "+r"(d[54]), "+r"(d[55]),
        "+r"(d[56]), "+r"(d[57]), "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]), "+r"(d[62]), "+r"(d[63])
      : "l"(desc_a), "l"(desc_b), "r"(scale_d));
#else
  sageattn_wgmma_unavailable();
#endif
}

// D (+)= P [V^T; ones] for a 64x136 tile, FP8 E4M3 x E4M3 -> FP32 (the truncating accumulation
// of tiles.h, PvAccumulation::kWgmmaTruncating): P from registers (the m16n8k32 A fragment per
// warp), V^T from shared memory (K-major descriptor). The 128 value columns plus 8 columns whose
// B rows are all 1.0, which sum the FP8 P of every row on the tensor cores (the row sum of the
// softmax, RowSum::kFp8PTensor, accumulated under the same rule as O).
__device__ __forceinline__ void wgmma_m64n136k32_f32_e4m3_rs(float (&d)[68], const std::uint32_t (&a)[4],
                                                            std::uint64_t desc_b, int scale_d) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %73, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n136k32.f32.e4m3.e4m3 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67}, {%68, %69, %70, %71}, %72, p, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
        "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d));
#else
  sageattn_wgmma_unavailable();
#endif
}

// The same for a 64x72 tile: 64 value columns (head dim 64) plus the 8 columns of ones.
__device__ __forceinline__ void wgmma_m64n72k32_f32_e4m3_rs(float (&d)[36], const std::uint32_t (&a)[4],
                                                            std::uint64_t desc_b, int scale_d) {
#if SAGEATTN_WGMMA_ENABLED
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %41, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n72k32.f32.e4m3.e4m3 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35}, {%36, %37, %38, %39}, %40, p, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d));
#else
  sageattn_wgmma_unavailable();
#endif
}

}  // namespace sageattn::cuda::wgmma
