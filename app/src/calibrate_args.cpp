#include "calibrate_args.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "common_flags.h"
#include "flag_parser.h"
#include "sagegen/calibrate/arch_costs.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

double parse_fraction(const std::string& text, const std::string& flag) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) {
    throw UsageError(flag + ": '" + text + "' is not a number");
  }
  return value;
}

std::int64_t parse_seed(const std::string& text, const std::string& flag) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    throw UsageError(flag + ": '" + text + "' is not an integer seed");
  }
  return value;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

const char* const kCalibrateUsage = R"(usage: sagegen calibrate [options]
  measures every attention variant against full precision on each (layer, step) of the model
  over calibration prompts x seeds, and writes an adaptive precision table (docs/calibration.md)
      --mode paper|ladder   paper (default): the worst --ratio of the (layer, step) pairs by the
                            sage2-4b CosSim*(1-L1) go to sage2-8b, the rest to sage2-4b;
                            ladder: per pair the cheapest variant on --arch whose worst
                            CosSim*(1-L1) is >= --floor, else fp16
      --ratio X             paper: fraction sent to 8-bit, in (0, 1] (default 0.3)
      --floor X             ladder: quality floor, in [0, 1] (default 0.95)
      --arch smNN           ladder: target arch for the costs (default: this GPU's; required on
                            the CPU), e.g. sm90, sm89, sm80
      --costs FILE.yaml     ladder: costs file (default configs/costs/<arch>.yaml)
      --prompts FILE        calibration prompts, one per line or a YAML list (default: 8 shapes-world
                            captions)
      --seeds N|A,B,...     N seeds 0..N-1, or a list (default 2)
  -o, --out FILE.yaml       the table (default outputs/calibrated-<model>-<mode>.yaml)
      --csv FILE.csv        every (layer, step, variant): cos, rel L1, CosSim*(1-L1), mean and worst
      --heatmap FILE.png    layers x steps, colour = sage2-4b CosSim*(1-L1), mark = chosen variant
      --overwrite           replace existing outputs
  plus the generation flags: --model, --config, --weights, --steps, --size, --frames,
  --cfg-scale, --shift, --negative-prompt, --device, --log-level
)";

std::vector<std::int64_t> parse_seeds(const std::string& text, const std::string& flag) {
  if (text.find(',') == std::string::npos) {
    const int count = parse_int_at_least(text, 1, flag);
    if (count > 10000) throw UsageError(flag + ": " + text + " seeds is more than 10000");
    std::vector<std::int64_t> seeds;
    for (int i = 0; i < count; ++i) seeds.push_back(i);
    return seeds;
  }
  std::vector<std::int64_t> seeds;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    item = trim(item);
    if (item.empty()) continue;  // "7," is the one seed 7
    seeds.push_back(parse_seed(item, flag));
  }
  if (seeds.empty()) throw UsageError(flag + ": '" + text + "' lists no seed");
  return seeds;
}

std::vector<std::string> read_calibration_prompts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--prompts: cannot read '" + path + "'");
  std::ostringstream whole;
  whole << in.rdbuf();
  const std::string text = whole.str();
  std::vector<std::string> prompts;
  const std::string first_line = [&] {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (!trim(line).empty()) return trim(line);
    }
    return std::string();
  }();
  if (first_line.rfind("- ", 0) == 0 || first_line == "-" || first_line.rfind('[', 0) == 0) {
    YAML::Node list;
    try {
      list = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw UsageError("--prompts: " + path + ":" + std::to_string(e.mark.line + 1) +
                       ": YAML syntax error: " + e.msg);
    }
    if (!list.IsSequence()) throw UsageError("--prompts: " + path + ": expected a YAML list of prompts");
    for (const YAML::Node& item : list) {
      if (!item.IsScalar() || trim(item.Scalar()).empty()) {
        throw UsageError("--prompts: " + path + ":" + std::to_string(item.Mark().line + 1) +
                         ": expected a prompt (a non-empty string)");
      }
      prompts.push_back(item.Scalar());
    }
  } else {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      line = trim(line);
      if (line.empty() || line[0] == '#') continue;
      prompts.push_back(line);
    }
  }
  if (prompts.empty()) throw UsageError("--prompts: '" + path + "' holds no prompts");
  return prompts;
}

CalibrateArgs parse_calibrate_args(const std::vector<std::string>& args) {
  CalibrateArgs parsed;
  std::vector<std::string> mode_flags;  // given flags that belong to one mode
  FlagParser flags([](const std::string& flag, const std::string&) {
    throw UsageError("calibrate: unknown flag '" + flag + "' (see sagegen calibrate --help)");
  });
  flags.add_switch({"-h", "--help"}, [&parsed] { parsed.help = true; });
  flags.add_switch({"--overwrite"}, [&parsed] { parsed.overwrite = true; });
  // calibrate's own flags: each names a file, a list, a mode or a number, never empty.
  const auto own = [&flags](std::vector<std::string> spellings,
                            std::function<void(const std::string&, const std::string&)> apply) {
    flags.add_value(spellings, [apply](const std::string& value, const std::string& flag) {
      if (value.empty()) throw UsageError(flag + ": empty value");
      apply(value, flag);
    });
  };
  own({"--prompts"}, [&parsed](const std::string& value, const std::string&) {
    parsed.prompts_file = value;
  });
  own({"--seeds"}, [&parsed](const std::string& value, const std::string& flag) {
    parsed.seeds = parse_seeds(value, flag);
  });
  own({"--mode"}, [&parsed](const std::string& value, const std::string& flag) {
    const auto mode = calibrate::parse_mode(value);
    if (!mode) throw UsageError(flag + ": unknown mode '" + value + "' (paper or ladder)");
    parsed.mode = *mode;
  });
  own({"--ratio"}, [&parsed, &mode_flags](const std::string& value, const std::string& flag) {
    mode_flags.push_back("ratio");
    parsed.ratio = parse_fraction(value, flag);
    if (!(parsed.ratio > 0.0 && parsed.ratio <= 1.0)) {
      throw UsageError(flag + ": " + value + " is outside (0, 1] (the fraction of pairs sent to 8-bit)");
    }
  });
  own({"--floor"}, [&parsed, &mode_flags](const std::string& value, const std::string& flag) {
    mode_flags.push_back("floor");
    parsed.floor = parse_fraction(value, flag);
    if (!(parsed.floor >= 0.0 && parsed.floor <= 1.0)) {
      throw UsageError(flag + ": " + value + " is outside [0, 1] (a CosSim*(1-L1) floor)");
    }
  });
  own({"--arch"}, [&parsed, &mode_flags](const std::string& value, const std::string& flag) {
    mode_flags.push_back("arch");
    parsed.arch = calibrate::normalize_arch(value);
    if (!parsed.arch) throw UsageError(flag + ": unknown arch '" + value + "' (e.g. sm90, sm89, sm80)");
  });
  own({"--costs"}, [&parsed, &mode_flags](const std::string& value, const std::string&) {
    mode_flags.push_back("costs");
    parsed.costs_file = value;
  });
  own({"-o", "--out"}, [&parsed](const std::string& value, const std::string&) { parsed.out = value; });
  own({"--csv"}, [&parsed](const std::string& value, const std::string&) { parsed.csv = value; });
  own({"--heatmap"}, [&parsed](const std::string& value, const std::string&) {
    parsed.heatmap = value;
  });
  own({"--log-level"}, [&parsed](const std::string& value, const std::string& flag) {
    parsed.log_level = parse_log_level(value, flag);
  });
  // The calibration's prompts and seeds come from --prompts and --seeds; it measures every
  // variant, so no table, attention override or frame rate applies.
  declare_generation_flags(flags, parsed.settings, [](const std::string& key) {
    return key != "prompt" && key != "seed" && key != "table" && key != "attention" && key != "fps";
  });
  for (const std::string& arg : flags.parse(args)) {
    throw UsageError("calibrate: unexpected argument '" + arg + "' (see sagegen calibrate --help)");
  }
  // A flag the chosen mode does not read would be silently ignored: refuse it instead.
  for (const std::string& key : mode_flags) {
    const bool ladder_only = key != "ratio";
    if (ladder_only && parsed.mode != calibrate::Mode::kLadder) {
      throw UsageError("--" + key + ": applies to --mode ladder only");
    }
    if (!ladder_only && parsed.mode != calibrate::Mode::kPaper) {
      throw UsageError("--" + key + ": applies to --mode paper only");
    }
  }
  return parsed;
}

}  // namespace sagegen::cli
