// `sagegen eval`: prompt adherence over the shapes world's fixed prompt sets (seen and held-out
// combinations), or over --prompt / --prompts FILE. Each prompt is drawn by the model (with the
// usual generation flags: --model, --table, --attention, --steps, ...) or, with --rendered, by
// the world's own renderer, and scored per attribute by the adherence evaluator.
// Its flags differ from generate's, so it reads the raw arguments after the command.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "generation_job.h"
#include "progress_bar.h"
#include "sagegen/eval/evaluate.h"
#include "sagegen/world/shapes_world.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

constexpr const char* kEvalUsage = R"(usage: sagegen eval [options]
  prompt adherence per attribute (colour, shape, size, position, relation, motion)
      --set seen|held-out|both  the world's fixed prompt sets (default both)
      --count N                 prompts per set (default 100)
      --prompts FILE            prompts from a file, one per line, in the world's caption templates
      --rendered                score the world's own renders (no model): checks the evaluator
      --frames N                1 = images (default); 8..16 = videos, every prompt with a motion
  plus the generation flags: --model, --config, --weights, --table, --attention, --steps,
  --cfg-scale, --shift, --seed (prompt i uses seed + i), --size, --device, --log-level
)";

enum class SetChoice { kSeen, kHeldOut, kBoth };

struct EvalOptions {
  GenerationSettings settings;
  SetChoice set = SetChoice::kBoth;
  int count = 100;
  std::string prompts_file;
  bool rendered = false;
  bool help = false;
  bool log_level_given = false;
};

SetChoice parse_set(const std::string& value) {
  if (value == "seen") return SetChoice::kSeen;
  if (value == "held-out") return SetChoice::kHeldOut;
  if (value == "both") return SetChoice::kBoth;
  throw UsageError("--set: unknown prompt set '" + value + "' (one of: seen, held-out, both)");
}

EvalOptions parse_eval_args(const std::vector<std::string>& args) {
  EvalOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      continue;
    }
    if (arg == "--rendered") {
      options.rendered = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) throw UsageError("eval: unexpected argument '" + arg + "' (sagegen eval --help)");
    std::string key = arg.substr(2), value;
    const auto eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    } else {
      if (i + 1 >= args.size()) throw UsageError(arg + ": needs a value");
      value = args[++i];
    }
    if (key == "cfg") key = "cfg-scale";
    const std::string flag = "--" + key;
    if (key == "set") {
      options.set = parse_set(value);
    } else if (key == "count") {
      options.count = parse_int_at_least(value, 1, flag);
    } else if (key == "prompts") {
      options.prompts_file = value;
    } else if (key == "log-level") {
      const auto level = spdlog::level::from_str(value);
      if (level == spdlog::level::off && value != "off") throw UsageError(flag + ": unknown log level '" + value + "'");
      spdlog::set_level(level);
      options.log_level_given = true;
    } else if (is_generation_key(key) && key != "prompt" && key != "negative-prompt") {
      apply_generation_setting(options.settings, key, value, flag);
    } else {
      throw UsageError("eval: unknown flag '" + flag + "' (sagegen eval --help)");
    }
  }
  if (options.rendered && !options.prompts_file.empty()) {
    throw UsageError("--rendered: draws the world's prompt sets; it cannot draw --prompts");
  }
  return options;
}

std::vector<std::string> read_prompts(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--prompts: cannot read '" + path + "'");
  std::vector<std::string> prompts;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      eval::parse_prompt(line);
    } catch (const std::invalid_argument& e) {
      throw UsageError(path + ":" + std::to_string(line_number) + ": " + e.what());
    }
    prompts.push_back(line);
  }
  if (prompts.empty()) throw UsageError("--prompts: '" + path + "' holds no prompts");
  return prompts;
}

void print_tally(const std::string& title, const eval::AdherenceTally& tally) {
  std::printf("%s\n%s\n", title.c_str(), tally.table().c_str());
  std::fflush(stdout);
}

eval::EvalProgressFn progress_for(ProgressBar& bar) {
  const auto start = std::chrono::steady_clock::now();
  return [&bar, start](int done, int) {
    bar.update(done, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
}

}  // namespace

int run_eval(const CommandLine& cl) {
  const EvalOptions options = parse_eval_args(cl.command_args);
  if (options.help) {
    std::fputs(kEvalUsage, stdout);
    return 0;
  }
  const GenerateRequest& base = options.settings.request;
  world::WorldOptions world_options;
  world_options.size = base.width;
  world_options.frames = base.frames;
  if (options.rendered && base.width != base.height) {
    throw UsageError("--size: the world renders square images; got " + std::to_string(base.width) + "x" +
                     std::to_string(base.height));
  }

  struct PromptSetRun {
    std::string title;
    std::vector<world::EvalPrompt> world_prompts;  // empty for --prompts
    std::vector<std::string> prompts;
  };
  std::vector<PromptSetRun> runs;
  if (!options.prompts_file.empty()) {
    runs.push_back({"prompts from " + options.prompts_file, {}, read_prompts(options.prompts_file)});
  } else {
    for (world::PromptSet set : {world::PromptSet::kSeen, world::PromptSet::kHeldOut}) {
      if (options.set == SetChoice::kSeen && set != world::PromptSet::kSeen) continue;
      if (options.set == SetChoice::kHeldOut && set != world::PromptSet::kHeldOut) continue;
      auto prompts = world::evaluation_prompts(set, world_options, options.count);
      auto captions = eval::captions_of(prompts);
      runs.push_back({std::string(world::to_string(set)) + " prompts (" + std::to_string(prompts.size()) + ")",
                      std::move(prompts), std::move(captions)});
    }
  }

  if (options.rendered) {
    for (const PromptSetRun& run : runs) {
      const auto tally = eval::evaluate_prompts(run.prompts, eval::rendered_draw(run.world_prompts, world_options));
      print_tally(run.title + ", rendered by the world (no model):", tally);
    }
    return 0;
  }

  GenerateRequest request = base;
  request.prompt = runs.front().prompts.front();
  request.seed = resolve_seed(request.seed);
  auto pipeline = Pipeline::load(request);
  check_size_against_patch(*pipeline, request, "--size");
  if (pipeline->random_weights()) {
    spdlog::warn("eval: model '{}' has random weights; its images are noise and will score near zero",
                 pipeline->model_name());
  }
  const std::string attention =
      request.attention ? std::string(sageattn::to_string(*request.attention)) : std::string("the model's table");
  spdlog::info("eval: model '{}' on {}, {}x{}, {} frames, {} steps, attention: {}", pipeline->model_name(),
               pipeline->device_name(), request.width, request.height, request.frames, request.steps, attention);
  // One info line per generation would bury the progress bar; --log-level info brings them back.
  if (!options.log_level_given) spdlog::set_level(spdlog::level::warn);
  for (const PromptSetRun& run : runs) {
    ProgressBar bar("eval " + run.title, static_cast<int>(run.prompts.size()), progress_style_for(stderr));
    const auto draw = [&](const std::string& prompt, int index) {
      GenerateRequest one = request;
      one.prompt = prompt;
      one.seed = request.seed + index;
      return pipeline->generate(one).video;
    };
    const auto tally = eval::evaluate_prompts(run.prompts, draw, progress_for(bar));
    bar.finish();
    print_tally(run.title + ", model " + pipeline->model_name() + ", seed " + std::to_string(request.seed) +
                    ", attention " + attention + ":",
                tally);
  }
  return 0;
}

}  // namespace sagegen::cli
