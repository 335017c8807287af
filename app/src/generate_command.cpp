// `sagegen generate` (the default command): one image or video from the command line.
#include <cstdio>

#include "commands.h"
#include "generation_job.h"
#include "usage_error.h"

namespace sagegen::cli {

int run_generate(const CommandLine& cl) {
  GenerateRequest request = cl.settings.request;
  request.seed = resolve_seed(request.seed);

  OutputPaths paths = resolve_output_paths(
      cl.out, default_stem(request.prompt, request.seed), request.frames > 1);
  if (!cl.overwrite) {
    for (const auto& path : {paths.media, paths.sidecar}) {
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) {
        throw UsageError("--out: '" + path.string() + "' exists (pass --overwrite to replace it)");
      }
    }
  }

  auto pipeline = Pipeline::load(request);
  check_size_against_patch(*pipeline, request, "--size");
  generate_to_files(*pipeline, request, paths, "");
  std::printf("%s\n", paths.media.string().c_str());
  return 0;
}

}  // namespace sagegen::cli
