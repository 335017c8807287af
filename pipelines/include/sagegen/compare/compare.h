// `sagegen compare` as a library: one prompt and seed under several attention variants and/or
// adaptive tables on one loaded model, each measured against full precision (fp16) from the
// same seed: PSNR, SSIM, prompt adherence and time per entry (result.h). Writes no files; the
// CLI (app/src/compare_command.cpp) draws and writes the figures.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sagegen/compare/result.h"
#include "sagegen/errors.h"
#include "sagegen/model_config.h"
#include "sagegen/pipeline.h"

namespace sagegen::compare {

// One thing to measure against the reference: a variant on every attention call, or an
// adaptive table deciding per (layer, step).
struct EntrySpec {
  enum class Kind { kVariant, kTable };
  Kind kind = Kind::kVariant;
  sageattn::Variant variant = sageattn::Variant::kFp16;  // kVariant
  std::string table_path;                                // kTable: the table's YAML file

  static EntrySpec of_variant(sageattn::Variant v) { return {Kind::kVariant, v, {}}; }
  static EntrySpec of_table(std::string path) {
    return {Kind::kTable, sageattn::Variant::kFp16, std::move(path)};
  }
};

struct CompareRequest {
  // Prompt, negative prompt, seed and sampling of every entry. Its `attention` and `table` stay
  // unset: each entry sets its own (a RequestError naming the field otherwise).
  GenerateRequest generation;
  std::vector<EntrySpec> entries;  // at least one; run in this order after the reference
};

// An entry that cannot run: what() is "entries[<index>]: <detail>", and the detail starts with
// the variant's name or the table's path ("sage2-4b cannot run on cpu: ...",
// "t.yaml:2:10: model: ..."), so a client can name the entry its own way.
class EntryError : public RequestError {
 public:
  EntryError(std::size_t index, const std::string& detail);
  std::size_t index() const { return index_; }  // into CompareRequest::entries

 private:
  std::size_t index_;
};

struct EntryStart {
  int index = 0;  // into CompareRun::entries: 0 is the reference
  int total = 0;  // CompareRun::entries.size()
  std::string label;
  int steps = 0;
};

// Both optional. entry_started: once per entry, the reference first, as it begins.
// step: every denoising step of the entry running.
struct CompareProgress {
  std::function<void(const EntryStart&)> entry_started;
  ProgressFn step;
};

// sage2-8b, sage2-4b and sage1: what a comparison measures when its client names nothing.
const std::vector<sageattn::Variant>& default_variants();

// default_variants() that run on the pipeline's device, in that order; each skipped one is a
// warning naming the reason. Empty when none runs.
std::vector<sageattn::Variant> runnable_default_variants(const Pipeline& pipeline);

// Reads every table entry and resolves it for `model`'s attention layers and `steps`: an
// EntryError for a missing or malformed file, a table for another model, or a layer or step out
// of range. Needs no loaded model, so a client can call it before Pipeline::load and a bad table
// fails before a large model loads (run_comparison checks again).
void check_table_entries(const std::vector<EntrySpec>& entries, const ModelConfig& model,
                         int steps);

// Checks every entry (tables as above; each variant, and every variant a table uses, must run
// on the pipeline's device: EntryError otherwise) before any generation, then generates the fp16
// reference and each entry in request order from the request's seed on the one loaded model,
// and measures each against the reference. On CUDA an untimed denoising step precedes each
// entry, so one-off costs are not charged to whichever runs first. RequestError naming the
// field for a request with `attention` or `table` set, no entries, or a width or height below
// the SSIM window (eval::kSsimWindow); errors of the pipeline (RequestError, ConfigError,
// RunError) propagate.
CompareRun run_comparison(Pipeline& pipeline, const CompareRequest& request,
                          const CompareProgress& progress = {});

}  // namespace sagegen::compare
