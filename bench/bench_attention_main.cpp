// sagegen_bench_attention: TOPS of every sagegen variant and of torch SDPA (flash, cuDNN) on the
// same inputs in one process. Each implementation is first checked against exact FP64 attention
// on a slice of whole Q blocks; a wrong one is reported as such and not timed.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_accuracy.h"
#include "bench_accuracy_cases.h"
#include "bench_energy.h"
#include "bench_gemm_ceiling.h"
#include "bench_options.h"
#include "bench_runners.h"
#include "bench_timing.h"

namespace sagegen::bench {
namespace {

// A variant passes verification when its slice is this close to exact attention. Loose on
// purpose: it separates a broken kernel from a working one; the GPU tests hold the tight bounds.
struct SanityFloor {
  double min_cos;
  double max_rel_l1;
};
// INT4 QK is far coarser: docs/numerics.md measures cos 0.985 / rel L1 0.14 for the golden model,
// and these inputs (K channel offsets) give rel L1 ~0.20 on the H100.
SanityFloor sanity_floor(const std::string& variant) {
  if (variant == "sage2-4b") return {0.95, 0.35};
  return {0.99, 0.15};
}
// Rows compared per head: one whole Q block of the mma.sync kernels (tiles.h).
constexpr int64_t kSliceRows = 128;
// Rotate input sets until they cover this many L2 sizes, so repeated calls read from HBM.
constexpr int64_t kL2Multiple = 4;
constexpr int64_t kMaxInputSets = 32;

struct Case {
  int64_t batch, heads, len, head_dim;
  bool causal;
};

struct Row {
  std::string variant;
  std::string status;  // ok | inaccurate | nan | error: ...
  std::string route;   // the selector's decision (variant, route, kernel plan); sagegen rows only
  Accuracy accuracy;
  Timing timing;
  double tops = 0.0;
  double quantize_ms = -1.0;  // < 0: not measured
  bool timed = false;
};

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return text;
}

std::vector<int64_t> input_shape(const Case& c, sageattn::Layout layout) {
  return layout == sageattn::Layout::kHND
             ? std::vector<int64_t>{c.batch, c.heads, c.len, c.head_dim}
             : std::vector<int64_t>{c.batch, c.len, c.heads, c.head_dim};
}

// Fresh random inputs; K gets a per-channel offset (the outlier structure K smoothing removes).
Inputs random_inputs(const Case& c, const BenchOptions& options) {
  const auto tensor_options = at::TensorOptions().device(at::kCUDA).dtype(options.dtype);
  const auto shape = input_shape(c, options.layout);
  Inputs in;
  in.q = at::randn(shape, tensor_options);
  in.k = at::randn(shape, tensor_options) + 4.0 * at::randn({c.head_dim}, tensor_options);
  in.v = at::randn(shape, tensor_options);
  return in;
}

int64_t input_set_count(const Case& c) {
  const int64_t bytes = 3 * c.batch * c.heads * c.len * c.head_dim * 2;
  const int64_t l2 = at::cuda::getCurrentDeviceProperties()->l2CacheSize;
  return std::clamp<int64_t>((kL2Multiple * l2 + bytes - 1) / bytes, 2, kMaxInputSets);
}

double attention_flops(const Case& c) {
  const double full = 4.0 * c.batch * c.heads * double(c.len) * double(c.len) * c.head_dim;
  return c.causal ? full / 2 : full;
}

// The last whole Q block of the first and the last head: the rows that see every key.
std::vector<RowSlice> accuracy_slices(const Case& c) {
  const int64_t begin = std::max<int64_t>(0, c.len - kSliceRows);
  return {{0, 0, begin, c.len}, {c.batch - 1, c.heads - 1, begin, c.len}};
}

Row measure(const Runner& runner, const Case& c, const std::vector<Inputs>& sets,
            const at::Tensor& exact, const BenchOptions& options, const EnergyCounter* energy) {
  Row row;
  row.variant = runner.name;
  try {
    if (runner.describe) row.route = runner.describe(sets[0]);
    const at::Tensor out = runner.run(sets[0]);
    const bool finite = at::isfinite(out).all().item<bool>();
    std::vector<at::Tensor> rows;
    for (const auto& slice : accuracy_slices(c)) rows.push_back(output_rows(out, options.layout, slice));
    row.accuracy = compare_rows(at::cat(rows), exact, finite);
    if (!finite || std::isnan(row.accuracy.cos)) {
      row.status = "nan";
    } else if (row.accuracy.cos < sanity_floor(runner.name).min_cos ||
               row.accuracy.rel_l1 > sanity_floor(runner.name).max_rel_l1) {
      row.status = "inaccurate";
    } else {
      row.status = "ok";
    }
    if (row.status != "ok") return row;
    const auto count = static_cast<int>(sets.size());
    row.timing = time_on_gpu([&](int i) { runner.run(sets[i % count]); }, options.warmup,
                             options.iters, energy);
    row.tops = attention_flops(c) / (row.timing.median_ms * 1e-3) / 1e12;
    row.timed = true;
    if (runner.quantize_only) {
      try {
        row.quantize_ms = time_on_gpu([&](int i) { runner.quantize_only(sets[i % count]); },
                                      options.warmup, options.iters)
                              .median_ms;
      } catch (const c10::Error&) {
        // auto below its crossover runs torch SDPA: there is no quantization stage to time.
        row.quantize_ms = -1.0;
      }
    }
  } catch (const c10::Error& error) {
    row.status = std::string("error: ") + error.what_without_backtrace();
  } catch (const std::exception& error) {
    row.status = std::string("error: ") + error.what();
  }
  // Keep one line per row: the first line of a multi-line error is enough here.
  row.status = row.status.substr(0, row.status.find('\n'));
  return row;
}

std::string case_label(const Case& c) {
  std::ostringstream label;
  label << "B" << c.batch << " H" << c.heads << " D" << c.head_dim << " L" << c.len
        << (c.causal ? " causal" : " full");
  return label.str();
}

std::string format_ratio(const Row& row, const std::map<std::string, Row>& by_name,
                         const std::string& baseline) {
  const auto it = by_name.find(baseline);
  if (!row.timed || it == by_name.end() || !it->second.timed) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.2f", row.tops / it->second.tops);
  return text;
}

int run(const BenchOptions& options) {
  TORCH_CHECK(at::hasCUDA(), "sagegen_bench_attention needs a CUDA device; none is visible");
  const auto* props = at::cuda::getCurrentDeviceProperties();
  const std::string card = props->name;
  const std::string date = utc_now();
  std::printf("sagegen_bench_attention  %s  %s (sm_%d%d, %d SMs)  dtype=%s layout=%s\n",
              date.c_str(), card.c_str(), props->major, props->minor, props->multiProcessorCount,
              options.dtype == at::kBFloat16 ? "bf16" : "fp16",
              std::string(sageattn::to_string(options.layout)).c_str());
  std::printf("TOPS = 4*B*H*Lq*Lk*D / median time (half for causal); median of %d after %d "
              "warm-up; cos / rel L1 vs exact FP64 on the last Q block of 2 heads.\n",
              options.iters, options.warmup);
  std::printf("Times include the quantization kernels; quant_ms is those kernels alone "
              "(sageattn::quantize_only), timed the same way.\n");

  std::string gemm_line = "FP8 _scaled_mm 8192^3: not measured (--no-gemm)";
  if (options.gemm_ceiling) {
    try {
      char text[96];
      std::snprintf(text, sizeof text, "FP8 e4m3 _scaled_mm 8192^3: %.0f TFLOPS (median of 10)",
                    fp8_gemm_tflops(3, 10));
      gemm_line = text;
    } catch (const c10::Error& error) {
      gemm_line = std::string("FP8 _scaled_mm: error: ") + error.what_without_backtrace();
      gemm_line = gemm_line.substr(0, gemm_line.find('\n'));
    }
  }
  std::printf("%s\n", gemm_line.c_str());

  // Asked for and unavailable is an error before any measurement, with NVML's reason.
  std::unique_ptr<EnergyCounter> energy;
  if (options.energy) {
    std::string why;
    energy = EnergyCounter::open(at::cuda::current_device(), &why);
    if (!energy) throw std::invalid_argument("--energy: " + why);
    std::printf("Energy: the board's (NVML) over the timed calls: J/call, TOPS/W = TOP per J, "
                "W = mean power.\n");
  }

  std::ofstream csv(options.csv_path);
  TORCH_CHECK(csv, "--csv: cannot write '", options.csv_path, "'");
  csv << "date,card,batch,heads,len_q,len_k,head_dim,causal,dtype,layout,variant,median_ms,"
         "min_ms,tops,x_flash,x_cudnn,quantize_ms,cos,rel_l1,status,joules_per_call,watts\n";
  std::ostringstream summary;
  summary << "-- bench (TOPS; cos = worst vs exact; " << card << ")\n";

  for (const auto& shape : options.shapes) {
    for (const int64_t head_dim : options.head_dims) {
      for (const bool causal : options.causal) {
        for (const int64_t len : options.lengths) {
          const Case c{shape.batch, shape.heads, len, head_dim, causal};
          std::vector<Inputs> sets;
          const int64_t set_count = input_set_count(c);
          for (int64_t i = 0; i < set_count; ++i) sets.push_back(random_inputs(c, options));
          std::vector<at::Tensor> exact_parts;
          for (const auto& slice : accuracy_slices(c)) {
            exact_parts.push_back(exact_rows(sets[0].q, sets[0].k, sets[0].v, options.layout,
                                             slice, causal, 1.0 / std::sqrt(double(head_dim))));
          }
          const at::Tensor exact = at::cat(exact_parts);

          std::map<std::string, Row> by_name;
          std::vector<Row> rows;
          for (const auto& name : options.variants) {
            rows.push_back(measure(make_runner(name, options.layout, causal), c, sets, exact, options,
                                   energy.get()));
            by_name[name] = rows.back();
          }
          std::printf("\n%s  (%lld input sets)\n", case_label(c).c_str(),
                      static_cast<long long>(set_count));
          std::printf("  %-11s %9s %8s %7s %7s %9s %9s %8s  %s%s\n", "variant", "ms", "TOPS",
                      "xflash", "xcudnn", "quant_ms", "cos", "relL1", "status",
                      energy ? "  (J/call TOPS/W W)" : "");
          double worst_cos = 1.0;
          summary << case_label(c) << " |";
          for (const auto& row : rows) {
            const std::string x_flash = format_ratio(row, by_name, "sdpa-flash");
            const std::string x_cudnn = format_ratio(row, by_name, "sdpa-cudnn");
            char quant[16] = "n/a";
            if (row.quantize_ms >= 0) std::snprintf(quant, sizeof quant, "%.3f", row.quantize_ms);
            char energy_text[64] = "";
            if (row.timing.joules_per_call >= 0) {
              std::snprintf(energy_text, sizeof energy_text, "  (%.3f J %.2f TOPS/W %.0f W)",
                            row.timing.joules_per_call,
                            attention_flops(c) / row.timing.joules_per_call / 1e12, row.timing.watts);
            }
            std::printf("  %-11s %9.3f %8.1f %7s %7s %9s %9.6f %8.5f  %s%s%s\n", row.variant.c_str(),
                        row.timing.median_ms, row.tops, x_flash.c_str(), x_cudnn.c_str(), quant,
                        row.accuracy.cos, row.accuracy.rel_l1, row.status.c_str(), energy_text,
                        row.route.empty() ? "" : ("  [" + row.route + "]").c_str());
            csv << date << ',' << card << ',' << c.batch << ',' << c.heads << ',' << c.len << ','
                << c.len << ',' << c.head_dim << ',' << (c.causal ? 1 : 0) << ','
                << (options.dtype == at::kBFloat16 ? "bf16" : "fp16") << ','
                << sageattn::to_string(options.layout) << ',' << row.variant << ','
                << row.timing.median_ms << ',' << row.timing.min_ms << ',' << row.tops << ','
                << x_flash << ',' << x_cudnn << ',' << (row.quantize_ms >= 0 ? quant : "")
                << ',' << row.accuracy.cos << ',' << row.accuracy.rel_l1 << ",\""
                << row.status << "\",";
            if (row.timing.joules_per_call >= 0) csv << row.timing.joules_per_call << ',' << row.timing.watts;
            else csv << ',';
            csv << '\n';
            if (row.timed) {
              summary << ' ' << row.variant << ' ' << static_cast<int>(std::lround(row.tops));
              if (row.variant.rfind("sdpa", 0) != 0) worst_cos = std::min(worst_cos, row.accuracy.cos);
            } else {
              summary << ' ' << row.variant << ' ' << row.status.substr(0, row.status.find(':'));
            }
          }
          char cos_text[32];
          std::snprintf(cos_text, sizeof cos_text, " | cos %.5f\n", worst_cos);
          summary << cos_text;
          csv.flush();
          std::fflush(stdout);
        }
      }
    }
  }
  summary << gemm_line << '\n';
  std::printf("\n%s", summary.str().c_str());
  if (!options.summary_path.empty()) std::ofstream(options.summary_path) << summary.str();
  return 0;
}

}  // namespace
}  // namespace sagegen::bench

int main(int argc, char** argv) {
  try {
    bool help = false;
    const auto options = sagegen::bench::parse_options(argc, argv, &help);
    if (help) {
      std::printf("%s", sagegen::bench::usage_text().c_str());
      return 0;
    }
    if (options.accuracy_cases) return sagegen::bench::run_accuracy_cases(options);
    return sagegen::bench::run(options);
  } catch (const c10::Error& error) {
    std::fprintf(stderr, "sagegen_bench_attention: %s\n", error.what_without_backtrace());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "sagegen_bench_attention: %s\n", error.what());
  }
  return 1;
}
