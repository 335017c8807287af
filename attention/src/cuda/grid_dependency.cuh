// Programmatic dependent launch (sm_90): a kernel launched with the programmatic stream
// serialization attribute (programmatic_launch.h) may start its CTAs once every CTA of the
// kernel before it on the stream has called allow_dependent_launch (or exited), instead of after
// that kernel ends. Its prologue (barrier setup, descriptor prefetch, register reallocation) then
// runs during the previous kernel's last wave and the launch latency is hidden; in exchange
// every read of what the previous kernel wrote must come after a wait_for_prerequisite_grids of
// the reading thread (or of the thread whose copies it waits for).
//
// Both are no-ops below sm_90 and in a grid launched without the attribute; the host asks for
// the attribute only for calls planned on the sm_90a wgmma kernel (backend.cpp), whose build
// compiled these kernels for sm_90a too.
#pragma once

namespace sageattn::cuda {

// Lets the next kernel on the stream, if launched programmatically, start once every CTA of this
// grid has called this. Its CTAs only take what resources this grid leaves free.
__device__ __forceinline__ void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Waits until the grids this one depends on have completed and their memory writes are visible
// to it; returns at once in a grid launched without the attribute.
__device__ __forceinline__ void wait_for_prerequisite_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

}  // namespace sageattn::cuda
