// One generation from request to files: shared by `generate` and every `batch` job.
#pragma once

#include <cstdint>
#include <string>

#include "output_paths.h"
#include "progress_bar.h"
#include "sagegen/pipeline.h"

namespace sagegen::cli {

// A negative seed means "pick one": drawn here, logged, and saved in the sidecar.
std::int64_t resolve_seed(std::int64_t seed);

// Throws UsageError naming `size_flag` when the size is not a multiple of the model's patch.
void check_size_against_patch(const Pipeline& pipeline, const GenerateRequest& request,
                              const std::string& size_flag);

// True when the output is finished (its sidecar, written last, exists).
bool output_finished(const OutputPaths& paths);

// The progress callback that draws `bar` and closes its line after the last step, before the
// pipeline logs its summary.
ProgressFn step_progress_for(ProgressBar& bar);

// Generates with a progress bar labelled `label`, writes media, frame strip and sidecar (last).
// paths.media is updated when the video writer fell back to another container.
// `load` is what `pipeline` was loaded with (recorded in the sidecar).
GenerateResult generate_to_files(Pipeline& pipeline, const LoadOptions& load,
                                 const GenerateRequest& request, OutputPaths& paths,
                                 const std::string& label);

}  // namespace sagegen::cli
