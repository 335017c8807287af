// What a comparison measured (compare.h): one entry per variant or table, the fp16 reference
// first. Clients draw their figures from this (the CLI's grid PNG, CSV and JSON).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sagegen/eval/image_quality.h"
#include "sagegen/request.h"

namespace sagegen::compare {

// Attributes of the prompt the adherence evaluator checked, and how many the output got right.
struct AdherenceCount {
  int correct = 0;
  int asked = 0;
  std::vector<std::pair<std::string, bool>> attributes;  // ("colour", true), ... in a fixed order
};

struct CompareEntry {
  enum class Kind { kReference, kVariant, kTable };
  Kind kind = Kind::kVariant;
  std::string label;           // under the image: "fp16 (reference)", "sage2-8b", "tiny-mixed.yaml"
  std::string source;          // the variant's name, or the table's path as given
  at::Tensor video;            // [F, H, W, 3] uint8, CPU
  eval::ImageQuality quality;  // against the reference entry
  std::optional<AdherenceCount> adherence;  // unset when the prompt is outside the templates
  double seconds_total = 0;                 // denoising loop plus decoding
  double seconds_per_step = 0;
  std::map<std::string, std::int64_t> attention_calls;  // variant name -> calls
};

struct CompareRun {
  std::string prompt;
  std::int64_t seed = 0;
  SamplingSettings sampling;  // steps, cfg, shift, size and frames of every entry
  std::string model_name;
  std::string device;
  bool random_weights = false;
  std::vector<CompareEntry> entries;  // entries[0] is the fp16 reference
};

std::string to_string(CompareEntry::Kind kind);  // "reference", "variant", "table"

}  // namespace sagegen::compare
