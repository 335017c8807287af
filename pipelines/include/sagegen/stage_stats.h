// Time and device memory of one stage of a generation (loading, text encoding, denoising,
// decoding), as the sidecar and the logs report them: where the seconds and the peak memory of a
// run go (issue 14 item 5: the per-stage figures of docs/benchmarks.md).
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace sagegen {

struct StageStats {
  std::string name;    // "loading", "text encoding", "denoising", "VAE decoding", "decoding"
  double seconds = 0;  // wall time, the device synchronised at both ends
  // The CUDA caching allocator's peak during the stage: bytes held by tensors (allocated) and
  // by the allocator from the driver (reserved), counting what was held when the stage began
  // (weights loaded before). -1: not measured (the CPU).
  std::int64_t peak_allocated_bytes = -1;
  std::int64_t peak_reserved_bytes = -1;

  bool measured_memory() const { return peak_allocated_bytes >= 0; }
};

// One stage being measured: the constructor synchronises `device` and resets the allocator's
// peak counters (CUDA), finish() synchronises again, reads the peaks and logs one line
// ("stage denoising: 12.31 s, peak 6.20 GB allocated, 7.01 GB reserved on cuda:0").
class StageMeter {
 public:
  StageMeter(const at::Device& device, std::string name);
  StageStats finish() const;

 private:
  at::Device device_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

// "12.31 s, peak 6.20 GB allocated, 7.01 GB reserved" (memory left out when not measured).
std::string stage_summary(const StageStats& stage);

}  // namespace sagegen
