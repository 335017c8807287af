#include "compare_options.h"

#include <filesystem>

#include "common_flags.h"
#include "flag_parser.h"
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

}  // namespace

const char* compare_usage() { return kCompareUsage; }

CompareOptions parse_compare_args(const std::vector<std::string>& args) {
  CompareOptions options;
  FlagParser flags([](const std::string& flag, const std::string&) {
    throw UsageError("compare: unknown flag '" + flag + "' (sagegen compare --help)");
  });
  flags.add_switch({"-h", "--help"}, [&options] { options.help = true; });
  flags.add_switch({"--overwrite"}, [&options] { options.overwrite = true; });
  flags.add_value({"--variants"}, [&options](const std::string& value, const std::string& flag) {
    for (const std::string& name : split_list(value)) {
      options.variants.push_back(parse_attention_variant(name, flag));
    }
  });
  flags.add_value({"--tables"}, [&options](const std::string& value, const std::string& flag) {
    for (const std::string& path : split_list(value)) {
      if (path.empty()) throw UsageError(flag + ": empty file name in '" + value + "'");
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        throw UsageError(flag + ": table file '" + path + "' does not exist");
      }
      options.tables.push_back(path);
    }
  });
  flags.add_value({"-o", "--out"}, [&options](const std::string& value, const std::string& flag) {
    if (value.empty()) throw UsageError(flag + ": empty path");
    options.out = value;
  });
  flags.add_value({"--log-level"}, [&options](const std::string& value, const std::string& flag) {
    options.log_level = parse_log_level(value, flag);
  });
  // compare runs every entry of --variants and --tables: a single --attention or --table would be
  // silently overruled, so they are refused by name.
  for (const char* own : {"--attention", "--table"}) {
    flags.add_value({own}, [](const std::string&, const std::string& flag) {
      throw UsageError(flag + ": compare runs every entry of --variants and --tables; it takes no " +
                       flag);
    });
  }
  declare_generation_flags(flags, options.settings, [](const std::string& key) {
    return key != "fps" && key != "attention" && key != "table";
  });
  for (const std::string& arg : flags.parse(args)) {
    throw UsageError("compare: unexpected argument '" + arg + "' (quote the prompt: -p \"...\")");
  }
  if (options.help) return options;
  validate_settings(options.settings, "compare");
  return options;
}

}  // namespace sagegen::cli
