#include "bench_options.h"

#include "bench_runners.h"

#include <sstream>
#include <stdexcept>

namespace sagegen::bench {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

int64_t parse_int(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(flag + ": '" + text + "' is not a positive integer");
}

std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text) {
  std::vector<int64_t> values;
  for (const auto& part : split(text, ',')) values.push_back(parse_int(flag, part));
  if (values.empty()) throw std::invalid_argument(flag + ": empty list");
  return values;
}

std::vector<BatchHeads> parse_shapes(const std::string& text) {
  std::vector<BatchHeads> shapes;
  for (const auto& part : split(text, ',')) {
    const auto x = part.find('x');
    if (x == std::string::npos) {
      throw std::invalid_argument("--shapes: '" + part + "' is not BxH (e.g. 2x24)");
    }
    shapes.push_back({parse_int("--shapes", part.substr(0, x)),
                      parse_int("--shapes", part.substr(x + 1))});
  }
  return shapes;
}

std::vector<bool> parse_causal(const std::string& text) {
  if (text == "off") return {false};
  if (text == "on") return {true};
  if (text == "both") return {false, true};
  throw std::invalid_argument("--causal: '" + text + "' is not one of off, on, both");
}

std::vector<std::string> parse_variants(const std::string& text) {
  std::vector<std::string> variants;
  for (const auto& name : split(text, ',')) {
    const bool baseline = name == "sdpa-flash" || name == "sdpa-cudnn";
    const std::string family = kernel_family_of(name);
    // The family after '@' is the selector's kernel-family option (sageattn/types.h).
    if (!baseline && (!sageattn::parse_variant(variant_of(name)) ||
                      (!family.empty() && !sageattn::parse_kernel_family(family)))) {
      throw std::invalid_argument("--variants: '" + name +
                                  "' is neither a sagegen variant (optionally @mma, @wgmma or "
                                  "@wgmma2) nor sdpa-flash / sdpa-cudnn");
    }
    variants.push_back(name);
  }
  return variants;
}

}  // namespace

std::string usage_text() {
  return R"(sagegen_bench_attention: attention TOPS of every sagegen variant and torch SDPA
(flash, cuDNN) in one process, each verified against exact FP64 attention on a slice first.
  --shapes 2x24,1x12         batch x heads
  --hd 64,128                head dims
  --lens 1024,4096,16384,32768   sequence lengths (Lq = Lk)
  --causal off|on|both       (default both)
  --variants LIST            sage2-8b,sage2-4b,sage1,fp16,auto,sdpa-flash,sdpa-cudnn;
                             VARIANT@mma / @wgmma / @wgmma2 pins the kernel family on sm_90;
                             a +smoothq suffix forces Q smoothing (off by default but for
                             sage2-4b), e.g. sage2-8b+smoothq, sage2-8b@mma+smoothq
  --dtype bf16|fp16          (default bf16)
  --layout HND|NHD           (default HND)
  --warmup N --iters N       untimed and timed runs per case (defaults 3, 10; median reported)
  --quick                    2x24, hd 128, lens 4096,16384, causal off
  --no-gemm                  skip the FP8 _scaled_mm 8192^3 ceiling
  --energy                   also the board's energy over the timed calls (NVML): joules per
                             call, TOPS per watt and the mean power; give --iters enough for
                             a second or more of calls (the counter updates every few 10 ms)
  --accuracy-cases           no timing: cos / rel L1 of the whole output vs exact FP64 on six
                             input kinds (Gaussian, K bias, Q channels x10, logits x3, Q tokens
                             x8, V tokens x50) at B1 H8 L4096 D128
  --seeds 1,2,3              the accuracy cases' random draws, one table each (default: the
                             documented draw), to see how much a figure moves between draws
  --csv PATH                 CSV output (default bench_attention.csv)
  --summary PATH             a short per-shape table, also printed last
)";
}

BenchOptions parse_options(int argc, char** argv, bool* help_requested) {
  BenchOptions options;
  *help_requested = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + ": needs a value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      *help_requested = true;
    } else if (flag == "--shapes") {
      options.shapes = parse_shapes(value());
    } else if (flag == "--hd") {
      options.head_dims = parse_int_list(flag, value());
    } else if (flag == "--lens") {
      options.lengths = parse_int_list(flag, value());
    } else if (flag == "--causal") {
      options.causal = parse_causal(value());
    } else if (flag == "--variants") {
      options.variants = parse_variants(value());
    } else if (flag == "--dtype") {
      const std::string name = value();
      if (name == "bf16") {
        options.dtype = at::kBFloat16;
      } else if (name == "fp16") {
        options.dtype = at::kHalf;
      } else {
        throw std::invalid_argument("--dtype: '" + name + "' is not bf16 or fp16");
      }
    } else if (flag == "--layout") {
      const std::string name = value();
      const auto layout = sageattn::parse_layout(name);
      if (!layout) throw std::invalid_argument("--layout: '" + name + "' is not HND or NHD");
      options.layout = *layout;
    } else if (flag == "--warmup") {
      options.warmup = static_cast<int>(parse_int(flag, value()));
    } else if (flag == "--iters") {
      options.iters = static_cast<int>(parse_int(flag, value()));
    } else if (flag == "--quick") {
      options.shapes = {{2, 24}};
      options.head_dims = {128};
      options.lengths = {4096, 16384};
      options.causal = {false};
    } else if (flag == "--accuracy-cases") {
      options.accuracy_cases = true;
    } else if (flag == "--seeds") {
      options.accuracy_seeds = parse_int_list(flag, value());
    } else if (flag == "--no-gemm") {
      options.gemm_ceiling = false;
    } else if (flag == "--energy") {
      options.energy = true;
    } else if (flag == "--csv") {
      options.csv_path = value();
    } else if (flag == "--summary") {
      options.summary_path = value();
    } else {
      throw std::invalid_argument("unknown flag '" + flag + "' (see --help)");
    }
  }
  return options;
}

}  // namespace sagegen::bench
