// The world's random numbers: splitmix64, so a seed gives the same scene on every platform
// (std:: distributions are implementation-defined).
#pragma once

#include <cstdint>

namespace sagegen::world::detail {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed ^ 0x5deece66d2b4c0e1ULL) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi): the top 24 bits give every float step in [0, 1).
  float uniform(float lo, float hi) {
    return lo + (hi - lo) * static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);
  }
  // Uniform integer in [0, n).
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  bool chance(float p) { return uniform(0.0f, 1.0f) < p; }

 private:
  std::uint64_t state_;
};

}  // namespace sagegen::world::detail
