// Throughput of the special-function and conversion instructions the attention softmax issues,
// per SM and clock on the device it runs on (docs/kernels.md, "The sm_90a kernel"): the FP32 ex2
// the kernels use now, the half-precision ex2 forms (P only needs FP8 precision), I2FP and the
// E4M3 pack, with FFMA for reference. 8 independent chains per thread, 2 CTAs of 512 per SM;
// an op the device's arch lacks prints "n/a".
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

constexpr int kIterations = 4096;
constexpr int kChains = 8;
constexpr int kThreads = 512;
constexpr int kBlocksPerSm = 2;

enum Op : int { kEx2F32, kEx2F16, kEx2F16x2, kEx2Bf16x2, kI2F, kE4m3Pack, kFfma, kOps };
constexpr const char* kNames[kOps] = {
    "ex2.approx.ftz.f32",        "ex2.approx.f16",        "ex2.approx.f16x2 (2 values)",
    "ex2.approx.ftz.bf16x2 (2)", "cvt.rn.f32.s32 (I2FP)", "cvt e4m3x2.f32 (F2FP, 2 values)",
    "fma.rn.f32 (reference)"};
constexpr int kMinArch[kOps] = {0, 0, 0, 900, 0, 890, 0};

template <int kOp>
__global__ void __launch_bounds__(kThreads) chains(float* sink, long long* cycles) {
#if defined(__CUDA_ARCH__)
  float f[kChains];
  std::uint32_t h[kChains];
  int n[kChains];
  for (int i = 0; i < kChains; ++i) {
    f[i] = -0.001f * static_cast<float>(threadIdx.x + i);
    // Both halves start off powers of two and differ per chain and thread: ptxas folds an ex2
    // chain from an exact power of two (1.0 -> 2 -> 4 -> 16 -> inf) at compile time, which
    // removed the high halves of the f16x2 / bf16x2 chains before (half the work measured).
    const std::uint32_t lo = 0x3c01u + ((threadIdx.x + i) & 0x3fu);
    h[i] = lo | ((lo + 0x40u) << 16);
    n[i] = static_cast<int>(threadIdx.x) * 7 + i;
  }
  __syncthreads();
  const long long start = clock64();
  for (int it = 0; it < kIterations; ++it) {
#pragma unroll
    for (int i = 0; i < kChains; ++i) {
      if constexpr (kOp == kEx2F32) asm volatile("ex2.approx.ftz.f32 %0, %0;" : "+f"(f[i]));
      if constexpr (kOp == kEx2F16) {
        auto x = static_cast<std::uint16_t>(h[i]);
        asm volatile("ex2.approx.f16 %0, %0;" : "+h"(x));
        h[i] = x;
      }
      if constexpr (kOp == kEx2F16x2) asm volatile("ex2.approx.f16x2 %0, %0;" : "+r"(h[i]));
#if __CUDA_ARCH__ >= 900
      if constexpr (kOp == kEx2Bf16x2) asm volatile("ex2.approx.ftz.bf16x2 %0, %0;" : "+r"(h[i]));
#endif
      if constexpr (kOp == kI2F) {
        float x;
        asm volatile("cvt.rn.f32.s32 %0, %1;" : "=f"(x) : "r"(n[i]));
        n[i] = __float_as_int(x);
      }
#if __CUDA_ARCH__ >= 890
      if constexpr (kOp == kE4m3Pack) {
        std::uint16_t r;
        asm volatile("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;"
                     : "=h"(r)
                     : "f"(f[i]), "f"(f[(i + 1) % kChains]));
        f[i] = __uint_as_float(r | 0x3f800000u);
      }
#endif
      if constexpr (kOp == kFfma) asm volatile("fma.rn.f32 %0, %0, %0, %0;" : "+f"(f[i]));
    }
  }
  const long long stop = clock64();
  float s = 0.0f;
  for (int i = 0; i < kChains; ++i) s += f[i] + __uint_as_float(h[i]) + __int_as_float(n[i]);
  sink[blockIdx.x * blockDim.x + threadIdx.x] = s;
  if (threadIdx.x == 0) cycles[blockIdx.x] = stop - start;
#endif
}

bool check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return true;
  std::fprintf(stderr, "sagegen_pipe_rates: %s: %s\n", what, cudaGetErrorString(err));
  return false;
}

template <int kOp>
bool measure(int sms, int arch) {
  if (arch < kMinArch[kOp]) {
    std::printf("%-34s n/a (needs sm_%d)\n", kNames[kOp], kMinArch[kOp] / 10);
    return true;
  }
  const int blocks = sms * kBlocksPerSm;
  float* sink = nullptr;
  long long* cycles = nullptr;
  if (!check(cudaMalloc(&sink, sizeof(float) * blocks * kThreads), "cudaMalloc") ||
      !check(cudaMalloc(&cycles, sizeof(long long) * blocks), "cudaMalloc")) {
    return false;
  }
  bool ok = true;
  for (int pass = 0; pass < 2 && ok; ++pass) {  // the first pass warms up
    chains<kOp><<<blocks, kThreads>>>(sink, cycles);
    ok = check(cudaGetLastError(), kNames[kOp]) && check(cudaDeviceSynchronize(), kNames[kOp]);
  }
  std::vector<long long> c(blocks);
  ok = ok && check(cudaMemcpy(c.data(), cycles, sizeof(long long) * blocks, cudaMemcpyDeviceToHost),
                   "cudaMemcpy");
  if (ok) {
    double mean = 0.0;
    for (const long long v : c) mean += static_cast<double>(v);
    mean /= blocks;
    // The blocks of one SM run side by side: ops per SM = blocks per SM x threads x chains x
    // iterations over one block's cycles.
    const double ops = static_cast<double>(kBlocksPerSm) * kThreads * kChains * kIterations;
    std::printf("%-34s %7.2f instructions a clock per SM\n", kNames[kOp], ops / mean);
  }
  ok = check(cudaFree(sink), "cudaFree") && ok;
  ok = check(cudaFree(cycles), "cudaFree") && ok;
  return ok;
}

}  // namespace

int main() {
  int sms = 0, major = 0, minor = 0;
  if (!check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0), "device") ||
      !check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0), "device") ||
      !check(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0), "device")) {
    return 1;
  }
  const int arch = major * 100 + minor * 10;
  std::printf("sagegen_pipe_rates: sm_%d%d, %d SMs; per-thread instructions of %d chains\n", major,
              minor, sms, kChains);
  const bool ok = measure<kEx2F32>(sms, arch) && measure<kEx2F16>(sms, arch) &&
                  measure<kEx2F16x2>(sms, arch) && measure<kEx2Bf16x2>(sms, arch) &&
                  measure<kI2F>(sms, arch) && measure<kE4m3Pack>(sms, arch) &&
                  measure<kFfma>(sms, arch);
  return ok ? 0 : 1;
}
