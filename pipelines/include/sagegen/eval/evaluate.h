// Runs a prompt set through something that draws (a model, or the world's own renderer) and
// tallies adherence per attribute. `sagegen eval` is a client of this.
#pragma once

#include "sagegen/eval/adherence.h"
#include "sagegen/world/shapes_world.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

namespace sagegen::eval {

// draw(prompt text, index in the set) -> [F, H, W, 3] uint8 on the CPU.
using DrawFn = std::function<at::Tensor(const std::string& prompt, int index)>;
// Called after each prompt with (prompts done, total), e.g. for a progress bar.
using EvalProgressFn = std::function<void(int done, int total)>;

// Each prompt is parsed with parse_prompt (so it must follow the world's templates; the error
// names the prompt otherwise), drawn, and scored: one score per prompt, in order.
std::vector<PromptScore> score_prompts(const std::vector<std::string>& prompts, const DrawFn& draw,
                                       const EvalProgressFn& progress = {});

AdherenceTally tally_of(const std::vector<PromptScore>& scores);

// score_prompts, tallied.
AdherenceTally evaluate_prompts(const std::vector<std::string>& prompts, const DrawFn& draw,
                                const EvalProgressFn& progress = {});

// The world's own renders of a prompt set's labels, drawing `options.frames` frames per prompt.
DrawFn rendered_draw(const std::vector<world::EvalPrompt>& prompts, const world::WorldOptions& options);

std::vector<std::string> captions_of(const std::vector<world::EvalPrompt>& prompts);

}  // namespace sagegen::eval
