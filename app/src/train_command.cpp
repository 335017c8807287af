// `sagegen train`: parses its own flags (they differ from generation's), then hands a
// TrainConfig to the trainer library. --export-ema turns a checkpoint into inference weights.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "progress_bar.h"
#include "sagegen/errors.h"
#include "sagegen/train/benchmark.h"
#include "sagegen/train/trainer.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTrainHelp = R"(usage:
  sagegen train --config configs/train/tiny-t2i.yaml [options]
  sagegen train --export-ema CHECKPOINT --out WEIGHTS.safetensors
  sagegen train --export-resume CHECKPOINT --out PACK.safetensors

options (each overrides the config's key of the same name):
      --config FILE.yaml    training config (configs/train/; keys in docs/training.md)
      --steps N             optimizer steps in all
      --batch N             samples per step (every kind of the frames mix)
      --lr X                peak learning rate (AdamW)
      --warmup N            linear warm-up steps
      --ema X               EMA decay
      --seed N              seed of the data, noise and caption dropout
      --grad-clip X         max global gradient norm (0: off)
      --caption-dropout X   fraction of empty prompts
      --log-every N         loss report (progress, loss.csv) every N steps
      --save-every N        checkpoint every N steps (0: only at the end)
      --time-limit SECONDS  wall-clock budget: fit the steps to it, stop when it runs out
  -o, --out DIR             where checkpoints, loss.csv and ema-bf16.safetensors go
                            (default outputs/train-<config name>)
      --resume PATH         a checkpoint, a resume pack (--export-resume), or a directory
                            (its latest checkpoint)
      --device auto|cpu|cuda  (default auto)
      --export-ema CKPT     write the checkpoint's EMA weights as bf16 to --out and exit
      --export-resume CKPT  write the checkpoint's resume pack (weights and AdamW second
                            moment, bf16; --resume takes it) to --out and exit
      --benchmark N         time N steps (after 10 of warm-up) and print where a step's time
                            goes: data wait, the phases of a step; saves nothing
      --profile N           with --benchmark: N more steps under the profiler, printing the
                            busiest kernels (--out FILE.json also writes its Chrome trace)
      --log-level LEVEL     trace, debug, info, warn, error, critical, off
)";

struct TrainArgs {
  std::string config_path;
  std::vector<std::pair<std::string, std::string>> settings;  // key, value (flag = "--" key)
  std::string out;
  std::string resume;
  std::string export_ema;
  std::string export_resume;
  int benchmark_steps = 0;
  int profile_steps = 0;
  std::string device = "auto";
  std::optional<spdlog::level::level_enum> log_level;
  bool help = false;
};

bool is_setting(const std::string& key) {
  for (const char* name : {"steps", "batch", "lr", "warmup", "ema", "seed", "grad-clip",
                           "caption-dropout", "log-every", "save-every", "time-limit"}) {
    if (key == name) return true;
  }
  return false;
}

TrainArgs parse_train_args(const std::vector<std::string>& args) {
  TrainArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    std::string key;
    if (arg == "-o") {
      key = "out";
    } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      key = arg.substr(2);
    } else {
      throw UsageError("train: unexpected argument '" + arg + "' (see sagegen train --help)");
    }
    std::optional<std::string> value;
    if (const auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    const std::string flag = arg == "-o" ? arg : "--" + key;
    const bool known = is_setting(key) || key == "config" || key == "out" || key == "resume" ||
                       key == "device" || key == "export-ema" || key == "export-resume" ||
                       key == "log-level" || key == "benchmark" || key == "profile";
    if (!known) throw UsageError("train: unknown flag '" + flag + "' (see sagegen train --help)");
    if (!value) {
      if (i + 1 >= args.size()) throw UsageError(flag + ": missing value");
      value = args[++i];
    }
    if (value->empty()) throw UsageError(flag + ": empty value");
    if (is_setting(key)) {
      parsed.settings.emplace_back(key, *value);
    } else if (key == "config") {
      parsed.config_path = *value;
    } else if (key == "out") {
      parsed.out = *value;
    } else if (key == "resume") {
      parsed.resume = *value;
    } else if (key == "export-ema") {
      parsed.export_ema = *value;
    } else if (key == "export-resume") {
      parsed.export_resume = *value;
    } else if (key == "benchmark" || key == "profile") {
      int& steps = key == "benchmark" ? parsed.benchmark_steps : parsed.profile_steps;
      std::size_t used = 0;
      try {
        steps = std::stoi(*value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value->size() || steps < 1 || steps > 100000) {
        throw UsageError(flag + ": expected a step count in [1, 100000], got '" + *value + "'");
      }
    } else if (key == "device") {
      if (*value != "auto" && *value != "cpu" && *value != "cuda") {
        throw UsageError(flag + ": unknown device '" + *value + "' (auto, cpu or cuda)");
      }
      parsed.device = *value;
    } else if (key == "log-level") {
      const auto level = spdlog::level::from_str(*value);
      // from_str maps unknown names to off: a typo must not silence the logs.
      if (level == spdlog::level::off && *value != "off") {
        throw UsageError(flag + ": unknown log level '" + *value + "'");
      }
      parsed.log_level = level;
    }
  }
  return parsed;
}

at::Device train_device(const std::string& choice) {
  const bool cuda = torch::cuda::is_available();
  if (choice == "cuda" && !cuda) {
    throw UsageError("--device cuda: CUDA is not available (no GPU visible, or this libtorch has "
                     "no CUDA); use --device cpu or auto");
  }
  if (choice == "cpu" || !cuda) return at::Device(at::kCPU);
  return at::Device(at::kCUDA, 0);
}

}  // namespace

int run_train(const CommandLine& cl) {
  const TrainArgs args = parse_train_args(cl.command_args);
  if (args.help) {
    std::fputs(kTrainHelp, stdout);
    return 0;
  }
  if (args.log_level) spdlog::set_level(*args.log_level);

  if (!args.export_resume.empty()) {
    if (args.out.empty()) throw UsageError("--export-resume: --out PACK.safetensors is required");
    train::export_resume_pack(args.export_resume, args.out);
    std::printf("%s\n", args.out.c_str());
    return 0;
  }
  if (!args.export_ema.empty()) {
    if (args.out.empty()) throw UsageError("--export-ema: --out WEIGHTS.safetensors is required");
    train::export_ema_weights(args.export_ema, args.out);
    std::printf("%s\n", args.out.c_str());
    return 0;
  }
  if (args.config_path.empty()) {
    throw UsageError("train: --config is required (e.g. --config configs/train/tiny-t2i.yaml)");
  }
  train::TrainConfig config = train::load_train_config(args.config_path);
  for (const auto& [key, value] : args.settings) {
    train::apply_train_setting(config, key, value, "--" + key);
  }
  train::validate_train_config(config);
  const fs::path out = args.out.empty()
                           ? fs::path("outputs") / ("train-" + fs::path(args.config_path).stem().string())
                           : fs::path(args.out);

  if (args.profile_steps > 0 && args.benchmark_steps == 0) {
    throw UsageError("--profile: only with --benchmark N");
  }
  train::Trainer trainer(config, train_device(args.device));
  if (!args.resume.empty()) trainer.load_checkpoint(train::find_checkpoint(args.resume));
  const auto data = train::make_shapes_world_data(trainer.config(), trainer.batch_preparer());
  if (args.benchmark_steps > 0) {
    train::BenchmarkOptions options;
    options.steps = args.benchmark_steps;
    options.profile_steps = args.profile_steps;
    if (args.profile_steps > 0) options.trace_path = args.out;
    std::fputs(train::format_benchmark(train::benchmark_training(trainer, *data, options)).c_str(),
               stdout);
    return 0;
  }

  const ProgressStyle style = progress_style_for(stderr);
  bool line_open = false;
  const std::int64_t first_step = trainer.step();
  trainer.run(*data, out, [&](const train::TrainProgress& p) {
    const std::string label = fmt::format("train loss {:.4f} lr {:.2e} {:.1f} samples/s", p.loss,
                                          p.lr, p.samples_per_second);
    // The bar's rate and ETA count this session's steps only (a resumed run starts mid-way).
    const std::string bar =
        ProgressBar::render(label, static_cast<int>(p.step - first_step),
                            static_cast<int>(p.total - first_step), p.seconds, 30);
    if (style == ProgressStyle::kRedraw) {
      std::fprintf(stderr, "\r%s step %lld\x1b[K", bar.c_str(), static_cast<long long>(p.step));
      line_open = true;
    } else {
      std::fprintf(stderr, "%s step %lld\n", bar.c_str(), static_cast<long long>(p.step));
    }
    std::fflush(stderr);
  });
  if (line_open) std::fputc('\n', stderr);
  std::printf("%s\n", (out / "ema-bf16.safetensors").string().c_str());
  return 0;
}

}  // namespace sagegen::cli
