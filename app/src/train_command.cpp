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
#include "common_flags.h"
#include "flag_parser.h"
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
      --cuda-graphs on|off  on CUDA, replay each batch shape's step as one CUDA graph
                            (default on; config key cuda_graphs; ignored on the CPU)
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

// The training settings a flag overrides (docs/training.md); their values are checked where the
// config is read, with the flag named.
constexpr const char* kSettingKeys[] = {"steps",           "batch",     "lr",         "warmup",
                                        "ema",             "seed",      "grad-clip",  "caption-dropout",
                                        "log-every",       "save-every", "time-limit",
                                        "cuda-graphs"};

TrainArgs parse_train_args(const std::vector<std::string>& args) {
  TrainArgs parsed;
  FlagParser flags([](const std::string& flag, const std::string&) {
    throw UsageError("train: unknown flag '" + flag + "' (see sagegen train --help)");
  });
  // Every train flag names a file, a device or a number: an empty value is a mistake.
  const auto text_flag = [&flags](std::vector<std::string> spellings, std::string& target) {
    flags.add_value(spellings, [&target](const std::string& value, const std::string& flag) {
      if (value.empty()) throw UsageError(flag + ": empty value");
      target = value;
    });
  };
  flags.add_switch({"-h", "--help"}, [&parsed] { parsed.help = true; });
  for (const char* key : kSettingKeys) {
    flags.add_value({std::string("--") + key},
                    [&parsed, key](const std::string& value, const std::string& flag) {
                      if (value.empty()) throw UsageError(flag + ": empty value");
                      parsed.settings.emplace_back(key, value);
                    });
  }
  text_flag({"--config"}, parsed.config_path);
  text_flag({"-o", "--out"}, parsed.out);
  text_flag({"--resume"}, parsed.resume);
  text_flag({"--export-ema"}, parsed.export_ema);
  text_flag({"--export-resume"}, parsed.export_resume);
  for (const char* name : {"--benchmark", "--profile"}) {
    int& steps = std::string(name) == "--benchmark" ? parsed.benchmark_steps : parsed.profile_steps;
    flags.add_value({name}, [&steps](const std::string& value, const std::string& flag) {
      std::size_t used = 0;
      try {
        steps = std::stoi(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size() || steps < 1 || steps > 100000) {
        throw UsageError(flag + ": expected a step count in [1, 100000], got '" + value + "'");
      }
    });
  }
  flags.add_value({"--device"}, [&parsed](const std::string& value, const std::string& flag) {
    if (value != "auto" && value != "cpu" && value != "cuda") {
      throw UsageError(flag + ": unknown device '" + value + "' (auto, cpu or cuda)");
    }
    parsed.device = value;
  });
  flags.add_value({"--log-level"}, [&parsed](const std::string& value, const std::string& flag) {
    parsed.log_level = parse_log_level(value, flag);
  });
  for (const std::string& arg : flags.parse(args)) {
    throw UsageError("train: unexpected argument '" + arg + "' (see sagegen train --help)");
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
