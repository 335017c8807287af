#include "compare_options.h"

#include <filesystem>

#include "usage_error.h"

namespace sagegen::cli {
namespace {

constexpr const char* kCompareUsage = R"(usage: sagegen compare -p PROMPT [options]
  one prompt and seed under several attention variants and/or adaptive tables, against full
  precision (fp16, always run first from the same seed): a labelled grid PNG (a per-frame strip
  per entry for video) with PSNR, SSIM, prompt adherence and time, plus a CSV and a JSON
      --variants A,B,...      attention variants, each for every call (default when neither this
                              nor --tables is given: sage2-8b, sage2-4b, sage1 where they run);
                              naming fp16 runs full precision again: the run-to-run floor
      --tables A.yaml,...     adaptive precision tables (per layer, per step) for the model
  -o, --out DIR               where grid.png, compare.csv and compare.json go
                              (default outputs/compare-<prompt>-s<seed>/)
      --overwrite             replace those files when they exist
  plus the generation flags: -p/--prompt, -n/--negative-prompt, -s/--seed, --steps, --cfg-scale,
  --shift, --size, --width, --height, --frames, --model, --config, --weights, --device,
  --log-level
example:
  sagegen compare -p "a red circle above a blue square" --seed 7 --steps 20 \
      --variants sage2-8b,sage2-4b --tables configs/tables/tiny-mixed.yaml --out outputs/cmp
)";

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string long_name_of_short(const std::string& arg) {
  if (arg == "-p") return "prompt";
  if (arg == "-n") return "negative-prompt";
  if (arg == "-s") return "seed";
  if (arg == "-o") return "out";
  if (arg == "-h") return "help";
  return {};
}

spdlog::level::level_enum parse_level(const std::string& value, const std::string& flag) {
  const auto level = spdlog::level::from_str(value);
  if (level == spdlog::level::off && value != "off") {
    throw UsageError(flag + ": unknown log level '" + value +
                     "' (one of: trace, debug, info, warn, error, critical, off)");
  }
  return level;
}

}  // namespace

const std::vector<sageattn::Variant>& default_compare_variants() {
  static const std::vector<sageattn::Variant> variants = {
      sageattn::Variant::kSage2Int8, sageattn::Variant::kSage2Int4, sageattn::Variant::kSage1};
  return variants;
}

const char* compare_usage() { return kCompareUsage; }

CompareOptions parse_compare_args(const std::vector<std::string>& args) {
  CompareOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string key;
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      key = arg.substr(2);
      const auto eq = key.find('=');
      if (eq != std::string::npos) {
        inline_value = key.substr(eq + 1);
        key.resize(eq);
      }
    } else if (arg.size() == 2 && arg[0] == '-') {
      key = long_name_of_short(arg);
      if (key.empty()) throw UsageError("compare: unknown flag '" + arg + "' (sagegen compare --help)");
    } else {
      throw UsageError("compare: unexpected argument '" + arg + "' (quote the prompt: -p \"...\")");
    }
    if (key == "cfg") key = "cfg-scale";
    const std::string flag = "--" + key;
    if (key == "help" || key == "overwrite") {
      if (inline_value) throw UsageError(flag + ": takes no value");
      (key == "help" ? options.help : options.overwrite) = true;
      continue;
    }
    if (key == "attention" || key == "table") {
      throw UsageError(flag + ": compare runs every entry of --variants and --tables; it takes no " + flag);
    }
    const bool known = key == "variants" || key == "tables" || key == "out" || key == "log-level" ||
                       (is_generation_key(key) && key != "fps");
    if (!known) throw UsageError("compare: unknown flag '" + flag + "' (sagegen compare --help)");
    if (!inline_value && i + 1 >= args.size()) throw UsageError(flag + ": missing value");
    const std::string value = inline_value ? *inline_value : args[++i];

    if (key == "variants") {
      for (const std::string& name : split_list(value)) {
        options.variants.push_back(parse_attention_variant(name, flag));
      }
    } else if (key == "tables") {
      for (const std::string& path : split_list(value)) {
        if (path.empty()) throw UsageError(flag + ": empty file name in '" + value + "'");
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) {
          throw UsageError(flag + ": table file '" + path + "' does not exist");
        }
        options.tables.push_back(path);
      }
    } else if (key == "out") {
      if (value.empty()) throw UsageError(flag + ": empty path");
      options.out = value;
    } else if (key == "log-level") {
      options.log_level = parse_level(value, flag);
    } else {
      apply_generation_setting(options.settings, key, value, flag);
    }
  }
  if (options.help) return options;
  validate_settings(options.settings, "compare");
  return options;
}

}  // namespace sagegen::cli
