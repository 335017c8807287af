// sageattn::attention as a torch operator, so a Python process (diffusers, ComfyUI, a script)
// can torch.ops.load_library() this shared library and call the same entry point as C++.
// Strings instead of enums at this boundary because the torch schema has no enums; each one is
// parsed here with an error naming the argument and listing the accepted names.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <string>
#include <tuple>

#include "sageattn/attention.h"

namespace sageattn {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

AttentionOptions options_from_strings(const std::string& variant, const std::string& layout,
                                      bool causal, std::optional<double> sm_scale,
                                      bool return_lse, const std::string& engine) {
  AttentionOptions options;
  const auto parsed_variant = parse_variant(variant);
  TORCH_CHECK(parsed_variant, "sageattn::attention: variant='", variant,
              "' is not a variant; one of: ", joined(variant_names()));
  const auto parsed_layout = parse_layout(layout);
  TORCH_CHECK(parsed_layout, "sageattn::attention: layout='", layout,
              "' is not a layout; one of: HND, NHD");
  const auto parsed_engine = parse_engine(engine);
  TORCH_CHECK(parsed_engine, "sageattn::attention: engine='", engine,
              "' is not an engine; one of: auto, kernel, golden");
  options.variant = *parsed_variant;
  options.layout = *parsed_layout;
  options.engine = *parsed_engine;
  options.causal = causal;
  options.sm_scale = sm_scale;
  options.return_lse = return_lse;
  return options;
}

// The schema returns two tensors; without return_lse the second is an empty float32 tensor,
// because an undefined tensor does not cross into Python.
std::tuple<at::Tensor, at::Tensor> attention_op(const at::Tensor& q, const at::Tensor& k,
                                                const at::Tensor& v, std::string variant,
                                                std::string layout, bool causal,
                                                std::optional<double> sm_scale, bool return_lse,
                                                std::string engine) {
  const AttentionOptions options =
      options_from_strings(variant, layout, causal, sm_scale, return_lse, engine);
  AttentionResult result = attention(q, k, v, options);
  at::Tensor lse = result.lse.defined() ? result.lse : at::empty({0}, q.options().dtype(at::kFloat));
  return {result.out, lse};
}

// Shapes only, for torch.compile / fake tensors: out is like q, lse is [B, H_q, L_q]; k and v
// take no part (the schema has them, the shapes follow from q).
std::tuple<at::Tensor, at::Tensor> attention_meta(const at::Tensor& q, const at::Tensor& /*k*/,
                                                  const at::Tensor& /*v*/, std::string variant,
                                                  std::string layout, bool causal,
                                                  std::optional<double> sm_scale, bool return_lse,
                                                  std::string engine) {
  const AttentionOptions options =
      options_from_strings(variant, layout, causal, sm_scale, return_lse, engine);
  TORCH_CHECK(q.dim() == 4, "sageattn::attention: q must be 4-D, got ", q.dim(), " dims");
  const bool hnd = options.layout == Layout::kHND;
  const int64_t batch = q.size(0);
  const int64_t heads = hnd ? q.size(1) : q.size(2);
  const int64_t len_q = hnd ? q.size(2) : q.size(1);
  at::Tensor lse = return_lse ? at::empty({batch, heads, len_q}, q.options().dtype(at::kFloat))
                              : at::empty({0}, q.options().dtype(at::kFloat));
  return {at::empty_like(q), lse};
}

}  // namespace
}  // namespace sageattn

TORCH_LIBRARY(sageattn, m) {
  m.def(
      "attention(Tensor q, Tensor k, Tensor v, str variant=\"auto\", str layout=\"HND\", "
      "bool causal=False, float? sm_scale=None, bool return_lse=False, str engine=\"auto\") "
      "-> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(sageattn, CPU, m) { m.impl("attention", &sageattn::attention_op); }
TORCH_LIBRARY_IMPL(sageattn, CUDA, m) { m.impl("attention", &sageattn::attention_op); }
TORCH_LIBRARY_IMPL(sageattn, Meta, m) { m.impl("attention", &sageattn::attention_meta); }
