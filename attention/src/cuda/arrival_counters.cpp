#include "cuda/arrival_counters.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

namespace sageattn::cuda {

// Why one buffer per stream is safe:
// - Every CTA of a pass arrives with atomicInc(counter, splits - 1), which wraps the counter
//   back to 0 on the splits-th arrival, so a pass that ends leaves every counter it used at 0,
//   whatever its splits; the next pass on the same stream starts after it in stream order.
// - Passes on different streams may run at the same time; each stream has its own buffer.
//   Streams are keyed by (device, handle); a destroyed stream's handle is only reused once its
//   work has finished, by which time its counters are back at 0.
// - A buffer that grows is replaced by a new zeroed one; the old one goes back to the caching
//   allocator, which reuses it on this stream only, after the passes queued before.
// - A graph being captured does not share the stream's buffer: a replay may run on any stream,
//   beside eager work on the capture stream. It gets counters of its own from the graph's pool,
//   zeroed by the graph.
at::Tensor arrival_counters(const c10::cuda::CUDAStream& stream, std::int64_t count) {
  const auto options = at::TensorOptions().device(stream.device()).dtype(at::kInt);
  const c10::cuda::CUDAStreamGuard guard(stream);  // the zeroing below runs on `stream`
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  C10_CUDA_CHECK(cudaStreamIsCapturing(stream.stream(), &capture));
  if (capture != cudaStreamCaptureStatusNone) return at::zeros({count}, options);

  static std::mutex mutex;
  // Never destroyed: freeing CUDA memory during static destruction can outlive the driver.
  static auto* const buffers = new std::map<std::pair<int, cudaStream_t>, at::Tensor>();
  const std::lock_guard<std::mutex> lock(mutex);
  at::Tensor& buffer = (*buffers)[{stream.device_index(), stream.stream()}];
  if (!buffer.defined() || buffer.numel() < count) {
    // Doubling: a few fills over the process's life at most.
    const std::int64_t size = std::max<std::int64_t>(count, buffer.defined() ? 2 * buffer.numel() : 0);
    buffer = at::zeros({size}, options);
  }
  return buffer;
}

}  // namespace sageattn::cuda
