#include "sagegen/stage_stats.h"

#include <ATen/ATen.h>
#include <ATen/DeviceAccelerator.h>
#include <c10/core/Allocator.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "resource_limits.h"

namespace sagegen {
namespace {

c10::DeviceIndex index_of(const at::Device& device) {
  return device.has_index() ? device.index() : c10::DeviceIndex{0};
}

}  // namespace

StageMeter::StageMeter(const at::Device& device, std::string name)
    : device_(device), name_(std::move(name)) {
  if (device_.is_cuda()) {
    // The caching allocator sizes its per-device tables on the first CUDA allocation and
    // rejects stats calls before it ("Invalid device argument"): the first stage of a process
    // can precede every allocation, so make one.
    (void)at::empty({1}, at::TensorOptions().device(device_).dtype(at::kByte));
    // Work queued by an earlier stage must not be timed here, nor its peak counted.
    at::accelerator::synchronizeDevice(index_of(device_));
    at::accelerator::resetPeakStats(index_of(device_));
  }
  start_ = std::chrono::steady_clock::now();
}

StageStats StageMeter::finish() const {
  StageStats stats;
  stats.name = name_;
  if (device_.is_cuda()) {
    at::accelerator::synchronizeDevice(index_of(device_));
    const auto device_stats = at::accelerator::getDeviceStats(index_of(device_));
    constexpr auto kAll = static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    stats.peak_allocated_bytes = device_stats.allocated_bytes[kAll].peak;
    stats.peak_reserved_bytes = device_stats.reserved_bytes[kAll].peak;
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  spdlog::info("stage {}: {} on {}", stats.name, stage_summary(stats), device_.str());
  return stats;
}

std::string stage_summary(const StageStats& stage) {
  if (!stage.measured_memory()) return fmt::format("{:.2f} s", stage.seconds);
  return fmt::format("{:.2f} s, peak {} allocated, {} reserved", stage.seconds,
                     format_bytes(static_cast<double>(stage.peak_allocated_bytes)),
                     format_bytes(static_cast<double>(stage.peak_reserved_bytes)));
}

}  // namespace sagegen
