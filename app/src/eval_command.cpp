// `sagegen eval`: prompt adherence over the shapes world's fixed prompt sets (seen and held-out
// combinations), or over --prompt / --prompts FILE. Each prompt is drawn by the model (with the
// usual generation flags: --model, --table, --attention, --steps, ...) or, with --rendered, by
// the world's own renderer, and scored per attribute by the adherence evaluator.
// Its flags differ from generate's, so it reads the raw arguments after the command.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "common_flags.h"
#include "flag_parser.h"
#include "generation_job.h"
#include "output_paths.h"
#include "progress_bar.h"
#include "sagegen/eval/evaluate.h"
#include "sagegen/io/text_file.h"
#include "sagegen/world/shapes_world.h"
#include "text_output.h"
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
      --csv FILE                also one row per prompt: set, index, seed, prompt and 1/0 per
                                attribute it asks for (empty: not asked); --overwrite replaces it
  plus the generation flags: --model, --config, --weights, --table, --attention, --steps,
  --cfg-scale, --shift, --seed (prompt i uses seed + i), --size, --device, --log-level
)";

enum class SetChoice { kSeen, kHeldOut, kBoth };

struct EvalOptions {
  GenerationSettings settings;
  SetChoice set = SetChoice::kBoth;
  int count = 100;
  std::string prompts_file;
  std::string csv;
  bool overwrite = false;
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
  FlagParser flags([](const std::string& flag, const std::string&) {
    throw UsageError("eval: unknown flag '" + flag + "' (sagegen eval --help)");
  });
  flags.add_switch({"-h", "--help"}, [&options] { options.help = true; });
  flags.add_switch({"--rendered"}, [&options] { options.rendered = true; });
  flags.add_switch({"--overwrite"}, [&options] { options.overwrite = true; });
  flags.add_value({"--csv"}, [&options](const std::string& value, const std::string&) {
    options.csv = value;
  });
  flags.add_value({"--set"}, [&options](const std::string& value, const std::string&) {
    options.set = parse_set(value);
  });
  flags.add_value({"--count"}, [&options](const std::string& value, const std::string& flag) {
    options.count = parse_int_at_least(value, 1, flag);
  });
  flags.add_value({"--prompts"}, [&options](const std::string& value, const std::string&) {
    options.prompts_file = value;
  });
  flags.add_value({"--log-level"}, [&options](const std::string& value, const std::string& flag) {
    spdlog::set_level(parse_log_level(value, flag));
    options.log_level_given = true;
  });
  // The prompts come from the prompt sets (or --prompts), not from -p/-n.
  declare_generation_flags(flags, options.settings, [](const std::string& key) {
    return key != "prompt" && key != "negative-prompt";
  });
  for (const std::string& arg : flags.parse(args)) {
    throw UsageError("eval: unexpected argument '" + arg + "' (sagegen eval --help)");
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

// The --csv file is checked before any drawing, so a run is not lost to a name taken or a
// folder missing at its end.
void check_csv_path(const EvalOptions& options) {
  if (options.csv.empty()) return;
  const std::filesystem::path path(options.csv);
  refuse_existing(path, "--csv", options.overwrite);
  std::error_code ec;
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  if (!std::filesystem::is_directory(dir, ec)) {
    throw UsageError("--csv: folder '" + dir.string() + "' does not exist");
  }
}

std::string csv_header() {
  std::string header = "set,index,seed,prompt";
  for (int a = 0; a < eval::kAttributeCount; ++a) {
    header += "," + std::string(eval::to_string(static_cast<eval::Attribute>(a)));
  }
  return header + "\n";
}

// One row per prompt; seed is empty for the world's own renders.
std::string csv_rows(const std::string& set, const std::vector<std::string>& prompts,
                     const std::vector<eval::PromptScore>& scores, std::optional<std::int64_t> seed) {
  std::string rows;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    rows += csv_field(set) + "," + std::to_string(i) + "," +
            (seed ? std::to_string(*seed + static_cast<std::int64_t>(i)) : std::string()) + "," +
            csv_field(prompts[i]);
    for (int a = 0; a < eval::kAttributeCount; ++a) {
      const auto correct = scores[i].at(static_cast<eval::Attribute>(a));
      rows += correct ? (*correct ? ",1" : ",0") : ",";
    }
    rows += "\n";
  }
  return rows;
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

  check_csv_path(options);
  std::string csv = csv_header();
  struct PromptSetRun {
    std::string set;  // the --csv column: seen, held-out, or the --prompts file
    std::string title;
    std::vector<world::EvalPrompt> world_prompts;  // empty for --prompts
    std::vector<std::string> prompts;
  };
  std::vector<PromptSetRun> runs;
  if (!options.prompts_file.empty()) {
    runs.push_back({options.prompts_file, "prompts from " + options.prompts_file, {},
                    read_prompts(options.prompts_file)});
  } else {
    for (world::PromptSet set : {world::PromptSet::kSeen, world::PromptSet::kHeldOut}) {
      if (options.set == SetChoice::kSeen && set != world::PromptSet::kSeen) continue;
      if (options.set == SetChoice::kHeldOut && set != world::PromptSet::kHeldOut) continue;
      auto prompts = world::evaluation_prompts(set, world_options, options.count);
      auto captions = eval::captions_of(prompts);
      runs.push_back({std::string(world::to_string(set)),
                      std::string(world::to_string(set)) + " prompts (" + std::to_string(prompts.size()) + ")",
                      std::move(prompts), std::move(captions)});
    }
  }

  if (options.rendered) {
    for (const PromptSetRun& run : runs) {
      const auto scores = eval::score_prompts(run.prompts, eval::rendered_draw(run.world_prompts, world_options));
      print_tally(run.title + ", rendered by the world (no model):", eval::tally_of(scores));
      csv += csv_rows(run.set, run.prompts, scores, std::nullopt);
    }
    if (!options.csv.empty()) io::write_text_file(options.csv, csv);
    return 0;
  }

  GenerateRequest request = base;
  request.prompt = runs.front().prompts.front();
  request.seed = resolve_seed(request.seed);
  auto pipeline = Pipeline::load(options.settings.load);
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
    const auto scores = eval::score_prompts(run.prompts, draw, progress_for(bar));
    bar.finish();
    print_tally(run.title + ", model " + pipeline->model_name() + ", seed " + std::to_string(request.seed) +
                    ", attention " + attention + ":",
                eval::tally_of(scores));
    csv += csv_rows(run.set, run.prompts, scores, request.seed);
    // Written after every set, so a cut run keeps the sets it finished.
    if (!options.csv.empty()) io::write_text_file(options.csv, csv);
  }
  return 0;
}

}  // namespace sagegen::cli
