#include "sagegen/calibrate/calibrator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <ctime>
#include <stdexcept>

#include "sagegen/calibrate/metric_accumulator.h"
#include "sagegen/world/shapes_world.h"

namespace sagegen::calibrate {
namespace {

using sageattn::Variant;

// Removes the observer however measure() leaves (the accumulator dies with it).
class ObserverScope {
 public:
  ObserverScope(Pipeline& pipeline, AttentionObserver observer) : pipeline_(pipeline) {
    pipeline_.set_attention_observer(std::move(observer));
  }
  ~ObserverScope() { pipeline_.set_attention_observer({}); }
  ObserverScope(const ObserverScope&) = delete;
  ObserverScope& operator=(const ObserverScope&) = delete;

 private:
  Pipeline& pipeline_;
};

std::string join_variants(const std::vector<Variant>& variants) {
  std::string out;
  for (Variant v : variants) out += (out.empty() ? "" : ", ") + std::string(sageattn::to_string(v));
  return out;
}

}  // namespace

std::vector<std::string> default_calibration_prompts(int frames) {
  world::WorldOptions options;
  options.frames = frames > 1 ? 8 : 1;  // the world's videos have 8..16 frames; only the caption is used
  std::vector<std::string> prompts;
  for (const auto& prompt : world::evaluation_prompts(world::PromptSet::kSeen, options, 8)) {
    prompts.push_back(prompt.caption);
  }
  return prompts;
}

Measurement measure(Pipeline& pipeline, const CalibrationOptions& options,
                    const RunProgressFn& progress) {
  if (options.prompts.empty()) throw std::invalid_argument("calibrate: no calibration prompts");
  if (options.seeds.empty()) throw std::invalid_argument("calibrate: no seeds");
  MetricAccumulator accumulator(pipeline.attention_layers(), options.sampling.steps, options.candidates,
                                options.engine);
  // The pairs the model's rules decide are theirs under any table: measuring them would only
  // write rules that override the model.
  const std::vector<sageattn::TableRule>& model_rules = pipeline.model_precision_rules();
  const auto decided_by_the_model = [&model_rules](const AttentionCall& call) {
    for (const sageattn::TableRule& rule : model_rules) {
      if (call.step >= 0 && rule.layers.contains(call.layer) && rule.steps.contains(call.step)) {
        return true;
      }
    }
    return false;
  };
  ObserverScope scope(pipeline, [&](const AttentionCall& call) {
    if (!decided_by_the_model(call)) accumulator.observe(call);
  });
  GenerateRequest request;
  options.sampling.apply_to(request);
  request.negative_prompt = options.negative_prompt;
  request.attention = Variant::kFp16;  // the reference every candidate is measured against
  const int total = static_cast<int>(options.prompts.size() * options.seeds.size());
  int done = 0;
  for (const std::string& prompt : options.prompts) {
    for (std::int64_t seed : options.seeds) {
      request.prompt = prompt;
      request.seed = seed;
      pipeline.generate(request);
      ++done;
      if (progress) progress(done, total);
    }
  }
  if (accumulator.unavailable().size() == options.candidates.size()) {
    std::string reasons;
    for (const auto& [variant, why] : accumulator.unavailable()) {
      reasons += fmt::format("; {}: {}", sageattn::to_string(variant), why);
    }
    throw std::runtime_error(fmt::format(
        "calibrate: no candidate variant runs on {}{} (calibrate on the CPU, device cpu, where "
        "the golden model runs every variant)",
        pipeline.device_name(), reasons));
  }
  std::vector<std::string> rules;
  for (const sageattn::TableRule& rule : model_rules) {
    rules.push_back(fmt::format("{}{}: {}", sageattn::to_string(rule.layers),
                                rule.steps.is_all() ? "" : " at steps " + sageattn::to_string(rule.steps),
                                sageattn::to_string(rule.variant)));
  }
  return Measurement{accumulator.result(), accumulator.unavailable(), accumulator.calls_measured(),
                     total, std::move(rules)};
}

std::optional<Mode> parse_mode(const std::string& text) {
  if (text == "paper") return Mode::kPaper;
  if (text == "ladder") return Mode::kLadder;
  return std::nullopt;
}

std::string_view to_string(Mode mode) { return mode == Mode::kPaper ? "paper" : "ladder"; }

Decisions decide(const MetricGrid& grid, const ChoiceSettings& settings) {
  if (settings.mode == Mode::kPaper) return choose_paper(grid, settings.ratio);
  if (!settings.costs) throw std::invalid_argument("ladder calibration: needs a costs table");
  return choose_ladder(grid, settings.floor, *settings.costs);
}

std::string table_header(const CalibrationOptions& options, const ChoiceSettings& settings,
                         const Measurement& measurement, const Decisions& decisions,
                         const std::string& model, const std::string& device,
                         const std::string& utc_date) {
  std::string how;
  if (settings.mode == Mode::kPaper) {
    how = fmt::format(
        "mode paper, ratio {:g}: the (layer, step) pairs are ranked by the sage2-4b CosSim*(1-L1) "
        "against fp16 (mean over the runs); the worst {} of {} go to sage2-8b, the rest to "
        "sage2-4b.",
        settings.ratio, decisions.count(Variant::kSage2Int8), decisions.observed());
  } else {
    const ArchCosts& costs = *settings.costs;
    how = fmt::format(
        "mode ladder, floor {:g}, arch {}: per (layer, step) the cheapest variant on {} whose "
        "worst CosSim*(1-L1) over the runs is >= the floor, else fp16; costs {} ({}{}).",
        settings.floor, costs.arch, costs.arch, costs.path,
        costs.measured ? "measured: " : "ESTIMATES: ", costs.source);
  }
  std::string counts;
  for (Variant v : ladder_order()) {
    const int n = decisions.count(v);
    if (n > 0) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", sageattn::to_string(v), n);
  }
  std::string prompts;
  for (const auto& p : options.prompts) prompts += "\n  " + p;
  std::string seeds;
  for (auto s : options.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(s);
  std::string model_rules_line;
  for (const std::string& rule : measurement.model_rules) {
    model_rules_line += (model_rules_line.empty() ? "" : "; ") + rule;
  }
  if (!model_rules_line.empty()) {
    model_rules_line = "Not measured: the layers the model's own rules decide under every table (" +
                       model_rules_line + "; docs/tables.md, \"Model rules\").\n";
  }
  return fmt::format(
      "Written by `sagegen calibrate` on {} for model {} on {}.\n{}\n"
      "Decided (layer, step) pairs: {} (of {} layers x {} steps).\n"
      "Runs: {} prompts x {} seeds ({}), {} steps, {}x{}, {} frame(s), cfg {:g}, shift {:g}, "
      "fp16 attention; {} DiT attention calls measured with {}.\n"
      "Each rule's comment gives the figure that chose it; the CSV of `--csv` has every metric.\n"
      "{}"
      "Prompts:{}",
      utc_date, model, device, how, counts.empty() ? "none" : counts, decisions.layers,
      decisions.steps, options.prompts.size(), options.seeds.size(), seeds,
      options.sampling.steps, options.sampling.width, options.sampling.height,
      options.sampling.frames, options.sampling.cfg_scale, options.sampling.shift,
      measurement.calls, join_variants(measurement.grid.variants()), model_rules_line, prompts);
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

}  // namespace sagegen::calibrate
