#include "bench_energy.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <stdexcept>
#include <utility>

namespace sagegen::bench {
namespace {

// The few NVML declarations used (nvml.h, NVML API version 12): results are an int enum, a
// device handle is an opaque pointer.
using NvmlReturn = int;
using NvmlDevice = void*;
constexpr NvmlReturn kNvmlSuccess = 0;

}  // namespace

struct EnergyCounter::Nvml {
  void* library = nullptr;
  NvmlDevice device = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  NvmlReturn (*total_energy)(NvmlDevice, unsigned long long*) = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;

  std::string error(const char* call, NvmlReturn result) const {
    return std::string(call) + " failed: " + (error_string ? error_string(result) : "NVML error") +
           " (" + std::to_string(result) + ")";
  }
  ~Nvml() {
    if (shutdown) shutdown();
    if (library) dlclose(library);
  }
};

std::unique_ptr<EnergyCounter> EnergyCounter::open(int cuda_device, std::string* why) {
  char bus_id[32] = {};
  if (const cudaError_t e = cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, cuda_device); e != cudaSuccess) {
    // Taken back from the runtime's last error too: torch would report it at its next check.
    cudaGetLastError();
    *why = "CUDA device " + std::to_string(cuda_device) + " has no PCI bus id: " + cudaGetErrorString(e);
    return nullptr;
  }
  auto nvml = std::make_unique<Nvml>();
  nvml->library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (nvml->library == nullptr) {
    *why = std::string("cannot load libnvidia-ml.so.1 (the NVIDIA driver's NVML): ") + dlerror();
    return nullptr;
  }
  auto symbol = [&](const char* name) { return dlsym(nvml->library, name); };
  const auto init = reinterpret_cast<NvmlReturn (*)()>(symbol("nvmlInit_v2"));
  const auto by_bus_id =
      reinterpret_cast<NvmlReturn (*)(const char*, NvmlDevice*)>(symbol("nvmlDeviceGetHandleByPciBusId_v2"));
  nvml->total_energy = reinterpret_cast<NvmlReturn (*)(NvmlDevice, unsigned long long*)>(
      symbol("nvmlDeviceGetTotalEnergyConsumption"));
  nvml->error_string = reinterpret_cast<const char* (*)(NvmlReturn)>(symbol("nvmlErrorString"));
  const auto shutdown = reinterpret_cast<NvmlReturn (*)()>(symbol("nvmlShutdown"));
  if (!init || !by_bus_id || !nvml->total_energy || !shutdown) {
    *why = "libnvidia-ml.so.1 lacks nvmlInit_v2, nvmlDeviceGetHandleByPciBusId_v2, "
           "nvmlDeviceGetTotalEnergyConsumption or nvmlShutdown (a driver older than NVML 12?)";
    return nullptr;
  }
  if (const NvmlReturn r = init(); r != kNvmlSuccess) {
    *why = nvml->error("nvmlInit_v2", r);
    return nullptr;
  }
  nvml->shutdown = shutdown;
  if (const NvmlReturn r = by_bus_id(bus_id, &nvml->device); r != kNvmlSuccess) {
    *why = nvml->error(("nvmlDeviceGetHandleByPciBusId_v2(" + std::string(bus_id) + ")").c_str(), r);
    return nullptr;
  }
  unsigned long long millijoules = 0;
  if (const NvmlReturn r = nvml->total_energy(nvml->device, &millijoules); r != kNvmlSuccess) {
    *why = nvml->error("nvmlDeviceGetTotalEnergyConsumption", r) + ": this board reports no energy counter";
    return nullptr;
  }
  return std::unique_ptr<EnergyCounter>(new EnergyCounter(std::move(nvml)));
}

EnergyCounter::EnergyCounter(std::unique_ptr<Nvml> nvml) : nvml_(std::move(nvml)) {}
EnergyCounter::~EnergyCounter() = default;

double EnergyCounter::joules() const {
  unsigned long long millijoules = 0;
  if (const NvmlReturn r = nvml_->total_energy(nvml_->device, &millijoules); r != kNvmlSuccess) {
    throw std::runtime_error(nvml_->error("nvmlDeviceGetTotalEnergyConsumption", r));
  }
  return static_cast<double>(millijoules) * 1e-3;
}

}  // namespace sagegen::bench
