#include "sagegen/attention_context.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <chrono>

#include "sageattn/attention.h"

namespace sagegen {

AttentionContext::AttentionContext(int dit_layers, sageattn::Variant fallback)
    : dit_layers_(dit_layers), fallback_(fallback) {
  TORCH_CHECK(dit_layers >= 1, "AttentionContext: dit_layers must be >= 1, got ", dit_layers);
}

void AttentionContext::use_table(sageattn::ResolvedTable table, std::string source_name) {
  TORCH_CHECK(table.num_layers() == dit_layers_, "AttentionContext: table ", source_name,
              " is resolved for ", table.num_layers(), " layers, the model has ", dit_layers_);
  table_ = std::move(table);
  table_source_ = std::move(source_name);
}

void AttentionContext::clear_table() {
  table_.reset();
  table_source_.clear();
}

void AttentionContext::use_override(std::optional<sageattn::Variant> variant) {
  override_ = variant;
}

void AttentionContext::use_fallback(sageattn::Variant variant) { fallback_ = variant; }

void AttentionContext::use_engine(sageattn::Engine engine) { engine_ = engine; }

void AttentionContext::set_observer(AttentionObserver observer) {
  observer_ = std::move(observer);
}

void AttentionContext::set_timing(bool enabled) { timing_ = enabled; }

void AttentionContext::set_step(int step) {
  TORCH_CHECK(step >= -1, "AttentionContext::set_step: step must be >= -1, got ", step);
  TORCH_CHECK(!table_ || step < table_->num_steps(), "AttentionContext::set_step: step ", step,
              " is past the ", table_->num_steps(), " steps the table was resolved for");
  step_ = step;
}

sageattn::Variant AttentionContext::variant_for(int layer) const {
  TORCH_CHECK(layer >= 0, "AttentionContext: layer id must be >= 0, got ", layer);
  // The text encoder (and anything outside the table's layers or the sampling loop) keeps full
  // precision: its output feeds every step, so an error there is never averaged out.
  if (layer >= dit_layers_ || step_ < 0) return sageattn::Variant::kFp16;
  if (override_) return *override_;
  if (table_) return table_->variant_for(layer, step_);
  return fallback_;
}

at::Tensor AttentionContext::attend(const at::Tensor& q, const at::Tensor& k,
                                    const at::Tensor& v, int layer) {
  sageattn::AttentionOptions options;
  options.variant = variant_for(layer);
  options.engine = engine_;
  options.layout = sageattn::Layout::kNHD;
  const bool sync = timing_ && q.is_cuda();
  if (sync) torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  // The result names the variant that ran (auto resolved, or fp16 where a quantized variant
  // fell back to SDPA), so the counts say what ran rather than what was asked.
  sageattn::AttentionResult result = sageattn::attention(q, k, v, options);
  at::Tensor out = std::move(result.out);
  if (sync) torch::cuda::synchronize();
  if (timing_) {
    attention_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  ++calls_[result.variant];
  if (observer_) observer_(AttentionCall{layer, step_, result.variant, q, k, v, out});
  return out;
}

at::Tensor AttentionContext::attend_with_bias(const at::Tensor& q, const at::Tensor& k,
                                              const at::Tensor& v, const at::Tensor& bias,
                                              int layer, double scale) {
  TORCH_CHECK(layer >= 0, "AttentionContext: layer id must be >= 0, got ", layer);
  const bool sync = timing_ && q.is_cuda();
  if (sync) torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  // SDPA takes [B, H, L, D]; the bias broadcasts to [B, H, L_q, L_k].
  at::Tensor out = at::scaled_dot_product_attention(
                       q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                       bias.to(q.scalar_type()), /*dropout_p=*/0.0, /*is_causal=*/false, scale)
                       .transpose(1, 2);
  if (sync) torch::cuda::synchronize();
  if (timing_) {
    attention_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  ++calls_[sageattn::Variant::kFp16];
  if (observer_) observer_(AttentionCall{layer, step_, sageattn::Variant::kFp16, q, k, v, out});
  return out;
}

std::map<std::string, std::int64_t> AttentionContext::call_counts() const {
  std::map<std::string, std::int64_t> named;
  for (const auto& [variant, count] : calls_) {
    named[std::string(sageattn::to_string(variant))] += count;
  }
  return named;
}

std::int64_t AttentionContext::total_calls() const {
  std::int64_t total = 0;
  for (const auto& entry : calls_) total += entry.second;
  return total;
}

void AttentionContext::reset_counts() {
  calls_.clear();
  attention_seconds_ = 0;
}

void AttentionContext::log_summary() const {
  std::string parts;
  for (const auto& [name, count] : call_counts()) {
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", name, count);
  }
  std::string policy;
  if (override_) {
    policy = fmt::format("override --attention {}", sageattn::to_string(*override_));
  } else if (table_) {
    policy = table_source_;
  } else {
    policy = fmt::format("no table: {} everywhere", sageattn::to_string(fallback_));
  }
  spdlog::info("attention calls: {} ({}; text encoder always fp16)",
               parts.empty() ? "none" : parts, policy);
}

}  // namespace sagegen
