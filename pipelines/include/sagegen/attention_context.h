// The one door every attention call of a model goes through. It knows the current sampling
// step, decides the variant for (layer, step) from the request's override, the adaptive table or
// a fallback, runs sageattn::attention and counts calls per variant.
//
// Layer ids: DiT block b has self-attention 2b (named blocks.b.attn1) and cross-attention 2b+1
// (blocks.b.attn2; sageattn/layer_names.h); joint-attention models leave the odd ids unused.
// The adaptive table covers ids [0, 2*depth). The text encoder's
// layer i uses id 2*depth + i: it runs once per prompt, before sampling, always in full precision
// (fp16 variant) and is counted like any other call.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "sageattn/table.h"
#include "sageattn/types.h"

namespace sagegen {

struct AttentionCall {
  int layer = 0;
  int step = 0;  // -1 outside the sampling loop (text encoder)
  sageattn::Variant variant = sageattn::Variant::kFp16;
  const at::Tensor& q;  // [B, L_q, H, D] (NHD)
  const at::Tensor& k;
  const at::Tensor& v;
  const at::Tensor& out;  // [B, L_q, H, D]
};
// Sees every call after it ran (calibration, tests). Must not keep the references.
using AttentionObserver = std::function<void(const AttentionCall&)>;

class AttentionContext {
 public:
  static constexpr int self_attention_layer(int block) {
    return sageattn::self_attention_layer(block);
  }
  static constexpr int cross_attention_layer(int block) {
    return sageattn::cross_attention_layer(block);
  }

  // dit_layers: the number of ids the table covers (2 * depth).
  // fallback kAuto: sage2-8b where its kernel runs (CUDA), else fp16 (CPU); auto is resolved
  // per call, so the counts name the variant that ran.
  explicit AttentionContext(int dit_layers,
                            sageattn::Variant fallback = sageattn::Variant::kAuto);

  // Precedence: override, then table, then fallback. A table must be resolved for
  // dit_layers layers; its steps bound the step numbers set_step() accepts. policy: what the
  // table stands for in the log line, e.g. "table configs/tables/x.yaml" or "--attention
  // sage2-8b; model rule blocks.*.attn2: fp16" (the pipeline's AttentionPolicy::description).
  void use_table(sageattn::ResolvedTable table, std::string policy);
  void clear_table();
  void use_override(std::optional<sageattn::Variant> variant);
  void use_fallback(sageattn::Variant variant);
  void use_engine(sageattn::Engine engine);  // default kAuto: kernels on CUDA, golden on CPU
  void set_observer(AttentionObserver observer);
  // Synchronises the device around each call and sums the time (benchmarks: attention share).
  void set_timing(bool enabled);

  void set_step(int step);  // -1: outside the sampling loop
  int step() const { return step_; }
  int dit_layers() const { return dit_layers_; }
  bool has_table() const { return table_.has_value(); }
  const std::string& table_source() const { return table_source_; }  // use_table's policy

  // The variant (layer, current step) runs with. Throws c10::Error for a layer id < 0.
  sageattn::Variant variant_for(int layer) const;

  // q: [B, L_q, H, D], k and v: [B, L_k, H, D] (NHD). Returns [B, L_q, H, D].
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int layer);

  // Full-precision attention with an additive `bias` broadcasting to [B, H, L_q, L_k] (T5's
  // relative position bias plus the padding mask) and scores scaled by `scale`. No SageAttention
  // variant takes a bias, so these calls (the UMT5 text encoder's) always run fp16 (torch SDPA)
  // and are counted and observed as fp16. q, k, v: [B, L, H, D]; returns [B, L_q, H, D].
  at::Tensor attend_with_bias(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const at::Tensor& bias, int layer, double scale);

  // variant name -> calls since the last reset.
  std::map<std::string, std::int64_t> call_counts() const;
  std::int64_t total_calls() const;
  double attention_seconds() const { return attention_seconds_; }  // with set_timing(true)
  void reset_counts();
  // One info line: "attention calls: sage2-8b 300, fp16 20 (table configs/tables/x.yaml)".
  void log_summary() const;

 private:
  int dit_layers_;
  int step_ = -1;
  sageattn::Variant fallback_;
  std::optional<sageattn::Variant> override_;
  std::optional<sageattn::ResolvedTable> table_;
  std::string table_source_;
  sageattn::Engine engine_ = sageattn::Engine::kAuto;
  AttentionObserver observer_;
  bool timing_ = false;
  double attention_seconds_ = 0;
  std::map<sageattn::Variant, std::int64_t> calls_;
};

}  // namespace sagegen
