// The board's energy counter, for energy per call next to time per call (`--energy`): on the
// H200 the long attention calls run into the card's power limit, so under sustained load their
// speed is set by the energy each one takes (docs/benchmarks.md, tenth session).
//
// Read through NVML (nvmlDeviceGetTotalEnergyConsumption: millijoules since the driver loaded),
// which is loaded when asked for: the benchmark links no NVML, and a machine without the driver's
// libnvidia-ml gets a reason instead of a failed start.
#pragma once

#include <memory>
#include <string>

namespace sagegen::bench {

class EnergyCounter {
 public:
  // The counter of CUDA device `cuda_device` (matched to NVML by PCI bus id), or null with the
  // reason in *why: no CUDA device, no libnvidia-ml.so.1, the device not found by NVML, or a
  // board without an energy counter.
  static std::unique_ptr<EnergyCounter> open(int cuda_device, std::string* why);
  ~EnergyCounter();
  EnergyCounter(const EnergyCounter&) = delete;
  EnergyCounter& operator=(const EnergyCounter&) = delete;

  // Joules since the driver loaded (the counter's resolution is 1 mJ; it is updated every few
  // tens of milliseconds, so a difference over less than ~1 s is coarse). Throws
  // std::runtime_error if the read fails.
  double joules() const;

 private:
  struct Nvml;
  explicit EnergyCounter(std::unique_ptr<Nvml> nvml);
  std::unique_ptr<Nvml> nvml_;
};

}  // namespace sagegen::bench
