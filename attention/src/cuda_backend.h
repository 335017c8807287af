// The boundary between the device-independent selector and the CUDA kernels. Built from
// src/cuda/ when CUDA is compiled, from cuda_backend_stub.cpp otherwise. The backend chooses no
// kernel: it reports the facts of a device and launches the plan the selector chose (deciding
// only launch details no numerics depend on, such as how the wgmma kernel stores O).
#pragma once

#include <cstdint>
#include <string>

#include "problem.h"
#include "sageattn/attention.h"
#include "sageattn/selection.h"

namespace sageattn::cuda_backend {

// True when this build contains the CUDA kernels.
bool compiled();

// The selector's facts about CUDA device `device` (arch, kernel images this build lacks for
// it), queried from the CUDA runtime once per device and cached for the process. A device that
// does not exist has arch 0; a build without kernels says so in no_kernels.
const DeviceFacts& device_facts(int device);

// The current CUDA device (for tensors whose device has no index); 0 without CUDA kernels.
int current_device();

// Runs the planned kernel; precondition: the selector chose Route::kCudaKernel with this plan.
AttentionResult run(const Problem& problem, Variant variant, const KernelPlan& plan,
                    const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const AttentionOptions& options);

// Only the quantization kernels run() would launch for the plan, their outputs discarded (the
// benchmark times them apart).
void quantize_only(const Problem& problem, Variant variant, const KernelPlan& plan,
                   const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const AttentionOptions& options);

// The token means the statistics kernel computes for the plan: K's (options.smooth_k) and V's
// (options.smooth_v), float32 [B, H_kv, D], undefined where that smoothing is off. For tests:
// the golden model's means must equal them bit for bit (docs/numerics.md, step 1).
struct ChannelMeans {
  at::Tensor k_mean, v_mean;
};
ChannelMeans channel_means(const Problem& problem, Variant variant, const KernelPlan& plan,
                           const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& options);

// How the sm_90a wgmma kernel writes O (docs/kernels.md, "Output through TMA"). kAuto: each
// consumer stages its tile in shared memory and stores it with TMA wherever a tensor map can
// describe the output (output_tma_unfit empty), per-thread stores elsewhere; kThreads: per-thread
// stores always. Both write the same bits. The process setting starts from
// SAGEATTN_WGMMA_OUTPUT_STORE ("auto" or "threads"; an unknown value throws c10::Error naming the
// variable) and set_output_store changes it (tests and A/B runs inside one process, where the
// kernel's block loop is the same code for both).
enum class OutputStore : std::uint8_t { kAuto, kThreads };
OutputStore output_store();
void set_output_store(OutputStore store);

// How many CTAs the sm_90a wgmma kernel launches for its work items (tiles, or their key splits):
// kPersistent (the default) one per SM (at most one per item), each running its first item and
// then claiming the next unclaimed one until none is left, so a CTA's next tile loads while it
// finishes the last (docs/kernels.md, "Persistent grid"); kFull one CTA per item. Both write the
// same bits. The process setting starts from SAGEATTN_WGMMA_GRID ("persistent" or "full"; another
// value throws c10::Error naming the variable); set_wgmma_grid changes it, and max_ctas > 0 caps
// a persistent grid below the SM count (tests: many items per CTA on small problems).
enum class WgmmaGrid : std::uint8_t { kPersistent, kFull };
WgmmaGrid wgmma_grid();
int wgmma_grid_max_ctas();
void set_wgmma_grid(WgmmaGrid grid, int max_ctas = 0);

// Whether calls planned on the sm_90a wgmma kernel launch the quantization's second launch and
// the attention kernel programmatically: each may then start during the last wave of the launch
// before it and wait for its end only where it reads that launch's outputs (docs/kernels.md,
// "Programmatic launches"). Both write the same bits. On by default; the process setting starts
// from SAGEATTN_PROGRAMMATIC_LAUNCH ("on" or "off"; another value throws c10::Error naming the
// variable) and set_programmatic_launch changes it (tests and A/B runs).
bool programmatic_launch();
void set_programmatic_launch(bool on);

// Why the wgmma kernel's TMA store cannot write `out` (an attention output of `layout`), in
// words; empty when it can.
std::string output_tma_unfit(const at::Tensor& out, Layout layout);

}  // namespace sageattn::cuda_backend
