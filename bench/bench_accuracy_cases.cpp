#include "bench_accuracy_cases.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "bench_input_kinds.h"
#include "bench_runners.h"
#include "sageattn/metrics.h"

namespace sagegen::bench {
namespace {

// The shape: hd 128, L 4096; 8 heads keep the FP64 reference at 1 GB of scores.
constexpr int64_t kBatch = 1, kHeads = 8, kLen = 4096, kHeadDim = 128;

// Exact attention in FP64 on the GPU, [B, H, L, D].
at::Tensor exact_fp64(const QKV& x) {
  const at::Tensor q = x.q.to(at::kCUDA, at::kDouble);
  const at::Tensor k = x.k.to(at::kCUDA, at::kDouble);
  const at::Tensor v = x.v.to(at::kCUDA, at::kDouble);
  const at::Tensor s = at::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(kHeadDim));
  return at::matmul(at::softmax(s, -1), v);
}

// One table: every input kind drawn from `seed`, every requested variant against exact FP64.
void accuracy_table(const BenchOptions& options, uint64_t seed, std::ofstream& csv) {
  const char* dtype = options.dtype == at::kBFloat16 ? "bf16" : "fp16";
  std::printf("accuracy vs exact FP64, whole output, B%lld H%lld L%lld D%lld, HND, %s, seed %llu\n",
              static_cast<long long>(kBatch), static_cast<long long>(kHeads),
              static_cast<long long>(kLen), static_cast<long long>(kHeadDim), dtype,
              static_cast<unsigned long long>(seed));
  std::printf("  %-16s %-16s %9s %8s  %s\n", "input", "variant", "cos", "relL1", "status");
  for (const InputKind kind : all_input_kinds()) {
    const QKV x = make_input_kind(kind, kBatch, kHeads, kLen, kHeadDim, seed);
    const at::Tensor want = exact_fp64(x);
    Inputs in;
    in.q = x.q.to(at::kCUDA, options.dtype);
    in.k = x.k.to(at::kCUDA, options.dtype);
    in.v = x.v.to(at::kCUDA, options.dtype);
    for (const auto& name : options.variants) {
      std::string status = "ok";
      sageattn::ErrorMetrics m{};
      try {
        const at::Tensor got =
            make_runner(name, sageattn::Layout::kHND, /*causal=*/false).run(in).to(at::kDouble);
        m = sageattn::compare(got, want);
        if (!at::isfinite(got).all().item<bool>()) status = "nan";
      } catch (const std::exception& error) {
        status = std::string("error: ") + error.what();
        status = status.substr(0, status.find('\n'));
      }
      std::printf("  %-16s %-16s %9.6f %8.5f  %s\n", input_kind_name(kind).c_str(), name.c_str(),
                  m.cos_sim, m.rel_l1, status.c_str());
      csv << seed << ',' << input_kind_name(kind) << ',' << name << ',' << dtype << ',' << m.cos_sim
          << ',' << m.rel_l1 << ",\"" << status << "\"\n";
    }
  }
}

}  // namespace

int run_accuracy_cases(const BenchOptions& options) {
  std::ofstream csv(options.csv_path);
  csv << "seed,input,variant,dtype,cos,rel_l1,status\n";
  if (options.accuracy_seeds.empty()) {
    accuracy_table(options, kInputKindsSeed, csv);
  }
  for (const int64_t seed : options.accuracy_seeds) {
    accuracy_table(options, static_cast<uint64_t>(seed), csv);
  }
  return 0;
}

}  // namespace sagegen::bench
