// Seeds derived from (run seed, stream, index): every random draw of a step is a pure function
// of the run's seed and the step, which is what makes resume exact.
#pragma once

#include <cstdint>

namespace sagegen::train {

enum class SeedStream : std::uint64_t { kFramesMix = 1, kScene = 2, kNoise = 3, kCaptionDropout = 4 };

// splitmix64 finaliser: adjacent inputs give unrelated outputs.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline std::uint64_t derive_seed(std::uint64_t seed, SeedStream stream, std::uint64_t index) {
  return mix64(mix64(mix64(seed) ^ static_cast<std::uint64_t>(stream)) ^ index);
}

// A double in [0, 1) from 53 bits of a seed.
inline double unit_interval(std::uint64_t bits) {
  return static_cast<double>(mix64(bits) >> 11) * 0x1.0p-53;
}

}  // namespace sagegen::train
