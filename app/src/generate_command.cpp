// `sagegen generate` (the default command): one image or video from the command line, or
// -b/--batch-count N of them with seeds s, s+1, ...
#include <cstdio>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "generation_job.h"
#include "output_lock.h"
#include "output_paths.h"
#include "rank_launch.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

// Image i of a --batch-count run: default names differ by their seed; a name given with -o gets
// _2, _3, ... after the first (as stable-diffusion.cpp names them).
OutputPaths paths_for(const CommandLine& cl, const GenerateRequest& request, int index) {
  const bool video = request.frames > 1;
  OutputPaths paths =
      resolve_output_paths(cl.out, default_stem(request.prompt, request.seed), video);
  std::error_code ec;
  if (index == 0 || cl.out.empty() || cl.out.back() == '/' ||
      std::filesystem::is_directory(cl.out, ec)) {
    return paths;
  }
  const std::string stem = paths.sidecar.stem().string() + "_" + std::to_string(index + 1);
  return output_paths_in(paths.sidecar.parent_path(), stem, video,
                         video ? paths.media.extension().string() : ".mp4");
}

}  // namespace

int run_generate(const CommandLine& cl) {
  const LoadOptions& load = cl.settings.load;
  GenerateRequest request = cl.settings.request;
  request.seed = resolve_seed(request.seed);
  request.strict_prompt = cl.strict_prompt;

  check_fits_before_load(load, request);
  // Several ranks (docs/multi-gpu.md): all run every step, rank 0 alone writes.
  const auto group = join_process_group(load);
  const bool writes = !group || group->rank() == 0;
  // Every output is checked and locked before the model loads: a bad path or another run
  // writing the same file fails now, with exit 2.
  std::vector<OutputPaths> outputs;
  std::vector<std::unique_ptr<OutputLock>> locks;
  for (int i = 0; i < cl.batch_count && writes; ++i) {
    GenerateRequest one = request;
    one.seed = request.seed + i;
    outputs.push_back(paths_for(cl, one, i));
    locks.push_back(std::make_unique<OutputLock>(outputs.back(), "--out"));
    for (const auto& path : {outputs.back().media, outputs.back().sidecar}) {
      refuse_existing(path, "--out", cl.overwrite);
    }
  }

  auto pipeline = Pipeline::load(load);
  check_size_against_patch(*pipeline, request, "--size");
  pipeline->use_sequence_parallel(group);
  for (int i = 0; i < cl.batch_count; ++i) {
    GenerateRequest one = request;
    one.seed = request.seed + i;
    if (!writes) {
      pipeline->generate(one);
      continue;
    }
    const std::string label =
        cl.batch_count > 1 ? fmt::format("image {}/{}", i + 1, cl.batch_count) : "";
    generate_to_files(*pipeline, load, one, outputs[i], label);
    std::printf("%s\n", outputs[i].media.string().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace sagegen::cli
