#include "bench_runners.h"

#include <ATen/ATen.h>

#include <optional>
#include <stdexcept>
#include <string_view>

#include "sageattn/attention.h"

namespace sagegen::bench {
namespace {

// SDPA's private entry points take [B, H, L, D]; NHD inputs go in as transposed views.
at::Tensor to_bhld(const at::Tensor& x, sageattn::Layout layout) {
  return layout == sageattn::Layout::kHND ? x : x.transpose(1, 2);
}

Runner sdpa_runner(const std::string& name, sageattn::Layout layout, bool causal) {
  Runner runner{name, nullptr, nullptr, nullptr};
  if (name == "sdpa-flash") {
    runner.run = [layout, causal](const Inputs& in) {
      auto result = at::_scaled_dot_product_flash_attention(
          to_bhld(in.q, layout), to_bhld(in.k, layout), to_bhld(in.v, layout),
          /*dropout_p=*/0.0, causal);
      return to_bhld(std::get<0>(result), layout);
    };
  } else {
    runner.run = [layout, causal](const Inputs& in) {
      auto result = at::_scaled_dot_product_cudnn_attention(
          to_bhld(in.q, layout), to_bhld(in.k, layout), to_bhld(in.v, layout),
          /*attn_bias=*/std::nullopt, /*compute_log_sumexp=*/false, /*dropout_p=*/0.0, causal);
      return to_bhld(std::get<0>(result), layout);
    };
  }
  return runner;
}

}  // namespace

namespace {
constexpr std::string_view kSmoothQSuffix = "+smoothq";

bool smooth_q_forced(const std::string& name) {
  return name.size() > kSmoothQSuffix.size() &&
         name.compare(name.size() - kSmoothQSuffix.size(), kSmoothQSuffix.size(), kSmoothQSuffix) == 0;
}

std::string without_suffix(const std::string& name) {
  return smooth_q_forced(name) ? name.substr(0, name.size() - kSmoothQSuffix.size()) : name;
}
}  // namespace

std::string variant_of(const std::string& name) {
  const std::string base = without_suffix(name);
  return base.substr(0, base.find('@'));
}

std::string kernel_family_of(const std::string& name) {
  const std::string base = without_suffix(name);
  const auto at = base.find('@');
  return at == std::string::npos ? std::string() : base.substr(at + 1);
}

Runner make_runner(const std::string& name, sageattn::Layout layout, bool causal) {
  if (name == "sdpa-flash" || name == "sdpa-cudnn") return sdpa_runner(name, layout, causal);
  const auto variant = sageattn::parse_variant(variant_of(name));
  const std::string family_name = kernel_family_of(name);
  if (!variant) throw std::invalid_argument("bench: unknown variant '" + name + "'");
  const auto family = family_name.empty() ? std::optional<sageattn::KernelFamily>(
                                                sageattn::KernelFamily::kAuto)
                                          : sageattn::parse_kernel_family(family_name);
  if (!family) {
    throw std::invalid_argument("bench: unknown kernel family '" + family_name + "' in '" + name +
                                "' (one of auto, mma, wgmma, wgmma2)");
  }
  sageattn::AttentionOptions options;
  options.variant = *variant;
  options.engine = sageattn::Engine::kKernel;
  options.layout = layout;
  options.causal = causal;
  if (smooth_q_forced(name)) options.smooth_q = true;
  options.kernel_family = *family;
  Runner runner{name, nullptr, nullptr, nullptr};
  runner.run = [options](const Inputs& in) {
    return sageattn::attention(in.q, in.k, in.v, options).out;
  };
  runner.describe = [options](const Inputs& in) {
    return sageattn::select_route(in.q, in.k, in.v, options).describe();
  };
  if (*variant != sageattn::Variant::kFp16) {
    runner.quantize_only = [options](const Inputs& in) {
      sageattn::quantize_only(in.q, in.k, in.v, options);
    };
  }
  return runner;
}

}  // namespace sagegen::bench
