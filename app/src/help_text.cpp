#include "help_text.h"

#include <spdlog/fmt/fmt.h>

#include "generation_settings.h"
#include "run_cli.h"
#include "sageattn/types.h"

#ifndef SAGEGEN_VERSION
#error "SAGEGEN_VERSION must be defined by the build (app/CMakeLists.txt)"
#endif

namespace sagegen::cli {

std::string version_text() { return std::string("sagegen ") + SAGEGEN_VERSION; }

std::string help_text() {
  std::string variants;
  for (const auto& name : sageattn::variant_names()) {
    variants += (variants.empty() ? "" : ", ") + name;
  }
  const GenerateRequest defaults;
  const LoadOptions load_defaults;
  return version_text() + R"( - text-to-image and text-to-video diffusion with SageAttention2

usage:
  sagegen [generate] -p PROMPT [options]     generate one image or video
  sagegen batch FILE.yaml [options]          run a list of jobs (options override every job)
  sagegen bench-pipeline [options]           time one denoising step per attention variant (GPU)
  sagegen train --config FILE.yaml [options]  train the built-in model (sagegen train --help)
  sagegen eval [options]                      prompt adherence per attribute (sagegen eval --help)
  sagegen calibrate [options]                 write an adaptive precision table (sagegen calibrate --help)
  sagegen compare -p PROMPT [options]         one prompt and seed under several variants/tables
                                              vs fp16: grid PNG, PSNR, SSIM, adherence, time
                                              (sagegen compare --help)

generation options:
  -p, --prompt TEXT           what to draw (required for generate)
  -n, --negative-prompt TEXT  what to steer away from (classifier-free guidance)
      --steps N               denoising steps (default )" + std::to_string(defaults.steps) + R"()
      --cfg-scale X           guidance scale, 1 = no guidance (default )" + fmt::format("{:g}", defaults.cfg_scale) + R"(; alias --cfg)
  -s, --seed N                noise seed; negative = random, printed and saved (default )" + std::to_string(defaults.seed) + R"()
  -b, --batch-count N         N images with seeds s, s+1, ... (generate; default 1)
  -W, --width N               width in pixels (default )" + std::to_string(defaults.width) + R"()
  -H, --height N              height in pixels (default )" + std::to_string(defaults.height) + R"()
      --size WxH              width and height at once, e.g. 64x64
                              (both must be multiples of the model's patch)
      --frames N              frames; 1 = image (PNG), more = video (MP4/AVI + frame strip);
                              alias --video-frames
      --fps X                 video frame rate (default )" + fmt::format("{:g}", defaults.fps) + R"()
      --shift X               flow-matching timestep shift (default 1.0); alias --flow-shift
      --sampling-method euler the sampler (euler is the only one: flow-matching Euler)
  -m, --model NAME|FILE       model name under configs/models/, a model config YAML, or a
                              .safetensors weights file (default )" + load_defaults.model + R"()
      --config FILE.yaml      model config file
      --weights FILE          weights (.safetensors); default: the config's weights
      --table FILE.yaml       adaptive precision table (per layer, per step)
      --attention VARIANT     one variant for every attention call, overriding the table
                              (a Wan folder's cross-attention stays fp16);
                              one of: )" + variants + R"(
      --device auto|cpu|cuda  where to run (default auto: cuda when available)
  -o, --out, --output PATH    output file, or directory (ending in / or existing);
                              default ./outputs/ with a name from the prompt and seed
      --overwrite             replace existing outputs (batch: regenerate finished jobs)
      --strict-prompt         words the model has no embedding for are an error, not a warning
  -t, --threads N             CPU threads for tensor operations (default: $OMP_NUM_THREADS, else
                              )" + std::to_string(default_thread_count()) + R"()
      --log-level LEVEL       trace, debug, info, warn, error, critical, off (default info)
  -v, --verbose               same as --log-level debug
  -h, --help                  this text
      --version               print the version

bench-pipeline options (plus --model/--config, --size, --frames, --device):
      --variants A,B,...      variants to time (default: fp16 and every sage variant)
      --warmup N              untimed steps per variant (default 1)
      --repeat N              timed steps per variant (default 3)

every output gets a JSON sidecar (same name, .json) with everything needed to reproduce it.
exit codes: 0 success, 1 a generation or job failed, 2 bad arguments, batch file or input file.

examples:
  sagegen -p "a red circle above a blue square"
  sagegen -p "a yellow ring moving left" --frames 16 --fps 8 -o outputs/ring.mp4
  sagegen -p "a green cross" -s -1 --steps 30 --cfg-scale 5 --attention fp16 --device cpu
  sagegen --model configs/models/sagegen-tiny.yaml --size 32x32 -p "a blue square" -o out/
  sagegen batch configs/batch/example.yaml --device cpu
  sagegen bench-pipeline --config configs/models/wan2.1-1.3b-shape.yaml --size 832x480 --frames 81
)";
}

}  // namespace sagegen::cli
