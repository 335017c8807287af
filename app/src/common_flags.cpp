#include "common_flags.h"

#include <array>
#include <string_view>

#include "usage_error.h"

namespace sagegen::cli {

std::vector<std::string> generation_flag_spellings(const std::string& key) {
  // Short forms as in stable-diffusion.cpp (-v is verbose there and here); long aliases: the
  // design's --cfg and stable-diffusion.cpp's names.
  std::vector<std::string> names;
  if (key == "prompt") names.push_back("-p");
  if (key == "negative-prompt") names.push_back("-n");
  if (key == "seed") names.push_back("-s");
  if (key == "width") names.push_back("-W");
  if (key == "height") names.push_back("-H");
  if (key == "model") names.push_back("-m");
  names.push_back("--" + key);
  if (key == "cfg-scale") names.push_back("--cfg");
  if (key == "frames") names.push_back("--video-frames");
  if (key == "shift") names.push_back("--flow-shift");
  return names;
}

void declare_generation_flags(FlagParser& flags, GenerationSettings& settings,
                              const std::function<bool(const std::string& key)>& accepts,
                              std::vector<std::pair<std::string, std::string>>* given) {
  for (const std::string& key : generation_keys()) {
    if (accepts && !accepts(key)) continue;
    flags.add_value(generation_flag_spellings(key),
                    [&settings, given, key](const std::string& value, const std::string& flag) {
                      apply_generation_setting(settings, key, value, flag);
                      if (given != nullptr) given->emplace_back(key, value);
                    });
  }
}

spdlog::level::level_enum parse_log_level(const std::string& text, const std::string& where) {
  // spdlog::level::from_string maps unknown names to "off"; a typo must not silence the logs.
  constexpr std::array<std::string_view, 7> kNames{"trace", "debug", "info",    "warn",
                                                   "error", "critical", "off"};
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (text == kNames[i]) return static_cast<spdlog::level::level_enum>(i);
  }
  throw UsageError(where + ": unknown log level '" + text +
                   "' (one of: trace, debug, info, warn, error, critical, off)");
}

}  // namespace sagegen::cli
