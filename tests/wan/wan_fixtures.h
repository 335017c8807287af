// The tiny Wan2.1 diffusers folder and diffusers' reference outputs of tests/data/wan-tiny,
// made by scripts/wan_parity/make_fixtures.py (pinned diffusers/transformers, run by hand).
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "sagegen/errors.h"
#include "sagegen/io/safetensors.h"
#include "sagegen/request.h"

// Tests of the tokenizer (and what runs it) skip in a build without sentencepiece
// (-DSAGEGEN_SENTENCEPIECE=OFF, the GPU machine's kernel builds); CI builds with it.
#define SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE()                          \
  if (!SAGEGEN_WITH_SENTENCEPIECE) GTEST_SKIP() << "built without sentencepiece"

namespace sagegen::testing {

inline std::filesystem::path wan_tiny_dir() {
  return std::filesystem::path(SAGEGEN_SOURCE_DIR) / "tests" / "data" / "wan-tiny";
}
inline std::filesystem::path wan_tiny_folder() {
  return wan_tiny_dir() / "Wan2.1-T2V-tiny-Diffusers";
}
// Load options for the tiny folder on the CPU (where the parity references were made).
inline LoadOptions wan_tiny_folder_on_cpu() {
  LoadOptions options;
  options.model = wan_tiny_folder().string();
  options.device = DeviceChoice::kCpu;
  return options;
}
inline io::NamedTensors wan_reference(const std::string& name) {
  return io::SafetensorsFile::open(wan_tiny_dir() / "reference" / (name + ".safetensors"))
      .read_all();
}

// max |actual - expected| / max |expected|: the bound is 1e-4 in float32.
inline double relative_max_error(const at::Tensor& actual, const at::Tensor& expected) {
  const double scale = expected.abs().max().item<double>();
  return (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>() /
         (scale > 0 ? scale : 1.0);
}

// Copies a folder tree (fixtures are small) so a test can break a copy.
inline void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// The message of the ConfigError `fn` throws; fails the test when it throws none.
template <typename Fn>
std::string config_error(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return "";
}

}  // namespace sagegen::testing
