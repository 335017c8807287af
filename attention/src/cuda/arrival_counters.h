// The arrival counters of the statistics pass (channel_stats.cuh): zero when a pass starts, and
// left zero by every pass, so a stream keeps one buffer for the process instead of a fill
// launch per call.
#pragma once

#include <ATen/Tensor.h>
#include <c10/cuda/CUDAStream.h>

#include <cstdint>

namespace sageattn::cuda {

// At least `count` zeroed int32 counters for one statistics pass on `stream`, valid for work
// queued on that stream: the stream's own buffer (zeroed once, on the stream, when first
// needed or when it grows), or, while the stream is being captured into a CUDA graph, a buffer
// of the graph's own zeroed by a node of the graph at every replay. Hold the tensor until the
// pass is queued.
at::Tensor arrival_counters(const c10::cuda::CUDAStream& stream, std::int64_t count);

}  // namespace sageattn::cuda
