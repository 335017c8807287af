#include "sagegen/eval/evaluate.h"

#include <c10/util/Exception.h>

namespace sagegen::eval {

std::vector<PromptScore> score_prompts(const std::vector<std::string>& prompts, const DrawFn& draw,
                                       const EvalProgressFn& progress) {
  // Parse everything first: a prompt outside the templates fails before any drawing time is spent.
  std::vector<PromptSpec> specs;
  specs.reserve(prompts.size());
  for (const std::string& prompt : prompts) specs.push_back(parse_prompt(prompt));
  std::vector<PromptScore> scores;
  scores.reserve(prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    scores.push_back(score_prompt(specs[i], draw(prompts[i], static_cast<int>(i))));
    if (progress) progress(static_cast<int>(i) + 1, static_cast<int>(prompts.size()));
  }
  return scores;
}

AdherenceTally tally_of(const std::vector<PromptScore>& scores) {
  AdherenceTally tally;
  for (const PromptScore& score : scores) tally.add(score);
  return tally;
}

AdherenceTally evaluate_prompts(const std::vector<std::string>& prompts, const DrawFn& draw,
                                const EvalProgressFn& progress) {
  return tally_of(score_prompts(prompts, draw, progress));
}

DrawFn rendered_draw(const std::vector<world::EvalPrompt>& prompts, const world::WorldOptions& options) {
  return [prompts, options](const std::string& prompt, int index) {
    TORCH_CHECK(index >= 0 && index < static_cast<int>(prompts.size()) && prompts[index].caption == prompt,
                "rendered_draw: prompt ", index, " '", prompt, "' is not in the world's prompt set");
    return world::render(prompts[index].label, options);
  };
}

std::vector<std::string> captions_of(const std::vector<world::EvalPrompt>& prompts) {
  std::vector<std::string> captions;
  captions.reserve(prompts.size());
  for (const world::EvalPrompt& p : prompts) captions.push_back(p.caption);
  return captions;
}

}  // namespace sagegen::eval
