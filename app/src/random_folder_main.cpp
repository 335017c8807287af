// `sagegen_random_folder`: writes a Wan2.1 diffusers folder with random weights of the shapes a
// skeleton folder's configs ask for (diffusers::write_random_wan_folder), so sagegen's whole
// Wan pipeline can be timed at real size where the real weights cannot be fetched
// (scripts/gpu_wan_realsize.sh; docs/wan.md, "Real size with random weights").
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "sagegen/diffusers/random_folder.h"
#include "sagegen/errors.h"

namespace {

constexpr int kUsageExitCode = 2;

constexpr const char* kUsage = R"(usage: sagegen_random_folder --like SKELETON --out DIR [options]
  --like DIR        a diffusers Wan2.1 folder or skeleton (model_index.json and each component's
                    config; weights there are not read), e.g. configs/diffusers/Wan2.1-T2V-1.3B-Diffusers
  --out DIR         the folder to write (must not exist, or be empty); its name is the model's name
  --tokenizer DIR   a tokenizer folder (spiece.model, tokenizer_config.json) to copy when the
                    skeleton has none
  --device cpu|cuda where the random values are drawn (default cpu; cuda draws 7B values in seconds)
  --dtype NAME      bfloat16 (default), float16 or float32: the transformer's and text encoder's
                    files (the VAE is written in float32)
  --seed N          default 0
  --shard-gb X      shard components larger than X GB (default 5, save_pretrained's)
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

sagegen::diffusers::RandomFolderOptions parse(const std::vector<std::string>& args,
                                              std::string& skeleton, std::string& out) {
  sagegen::diffusers::RandomFolderOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= args.size()) throw UsageError(flag + ": expected a value after it");
    const std::string& value = args[++i];
    try {
      if (flag == "--like") {
        skeleton = value;
      } else if (flag == "--out") {
        out = value;
      } else if (flag == "--tokenizer") {
        options.tokenizer_dir = value;
      } else if (flag == "--device") {
        if (value != "cpu" && value != "cuda") throw UsageError("--device: expected cpu or cuda");
        options.device = value == "cpu" ? at::Device(at::kCPU) : at::Device(at::kCUDA, 0);
      } else if (flag == "--dtype") {
        if (value == "bfloat16") {
          options.dtype = sagegen::io::DType::kBF16;
        } else if (value == "float16") {
          options.dtype = sagegen::io::DType::kF16;
        } else if (value == "float32") {
          options.dtype = sagegen::io::DType::kF32;
        } else {
          throw UsageError("--dtype: expected bfloat16, float16 or float32, got '" + value + "'");
        }
      } else if (flag == "--seed") {
        options.seed = std::stoull(value);
      } else if (flag == "--shard-gb") {
        const double gb = std::stod(value);
        if (!(gb > 0)) throw UsageError("--shard-gb: must be > 0");
        options.max_shard_bytes = static_cast<std::uint64_t>(gb * 1e9);
      } else {
        throw UsageError("unknown flag '" + flag + "' (see --help)");
      }
    } catch (const std::logic_error&) {  // std::stoull / std::stod
      throw UsageError(flag + ": not a number: '" + value + "'");
    }
  }
  if (skeleton.empty()) throw UsageError("--like: required");
  if (out.empty()) throw UsageError("--out: required");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("sagegen");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  std::string skeleton, out;
  sagegen::diffusers::RandomFolderOptions options;
  try {
    options = parse(std::vector<std::string>(argv + 1, argv + argc), skeleton, out);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "sagegen_random_folder: %s\n%s", e.what(), kUsage);
    return kUsageExitCode;
  }
  try {
    sagegen::diffusers::write_random_wan_folder(skeleton, out, options);
  } catch (const sagegen::ConfigError& e) {
    std::fprintf(stderr, "sagegen_random_folder: %s\n", e.what());
    return kUsageExitCode;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sagegen_random_folder: failed: %s\n", e.what());
    return 1;
  }
  std::printf("%s\n", out.c_str());
  return 0;
}
