// Random generators seeded for one device, for draws that must repeat exactly from a seed.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <mutex>

namespace sagegen {

// The CPU gets a generator of its own. Other devices reseed their default generator, which
// also resets its Philox offset; its users (random init, a training step) run one at a time.
inline at::Generator seeded_generator(const at::Device& device, std::uint64_t seed) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
  at::Generator gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
  return gen;
}

}  // namespace sagegen
