#include "sagegen/calibrate/metric_accumulator.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <limits>

#include "sageattn/attention.h"
#include "sagegen/calibrate/attention_error.h"

namespace sagegen::calibrate {

MetricAccumulator::MetricAccumulator(int layers, int steps,
                                     std::vector<sageattn::Variant> candidates,
                                     sageattn::Engine engine)
    : layers_(layers), steps_(steps), candidates_(std::move(candidates)), engine_(engine) {
  TORCH_CHECK(layers >= 1 && steps >= 1 && !candidates_.empty(),
              "MetricAccumulator: needs layers >= 1, steps >= 1 and a candidate variant");
  samples_.assign(static_cast<std::size_t>(layers) * steps * candidates_.size(), 0);
}

void MetricAccumulator::observe(const AttentionCall& call) {
  if (call.step < 0 || call.layer < 0 || call.layer >= layers_) return;
  TORCH_CHECK(call.step < steps_, "MetricAccumulator: step ", call.step, " is past the ",
              steps_, " steps of the calibration run");
  if (!sums_.defined()) {
    const auto options = call.out.options().dtype(at::kDouble);
    const auto candidates = static_cast<std::int64_t>(candidates_.size());
    sums_ = at::zeros({layers_, steps_, candidates, kErrorCount}, options);
    worst_ = at::full({layers_, steps_, candidates, kErrorCount},
                      std::numeric_limits<double>::infinity(), options);
    worst_sign_ = at::tensor({1.0, -1.0, 1.0}, at::TensorOptions().dtype(at::kDouble))
                      .to(call.out.device());
    head_dim_ = static_cast<int>(call.q.size(-1));
  }
  ++calls_;
  for (std::size_t c = 0; c < candidates_.size(); ++c) {
    sageattn::AttentionOptions options;
    options.variant = candidates_[c];
    options.engine = engine_;
    options.layout = sageattn::Layout::kNHD;  // the context's layout
    const std::string why_not = sageattn::why_unsupported(call.q, call.k, call.v, options);
    if (!why_not.empty()) {
      if (unavailable_.emplace(candidates_[c], why_not).second) {
        spdlog::warn("calibrate: {} cannot run here, not measured: {}",
                     sageattn::to_string(candidates_[c]), why_not);
      }
      continue;
    }
    const at::Tensor out = sageattn::attention(call.q, call.k, call.v, options).out;
    const at::Tensor error = attention_error(out, call.out);  // [3], on the device
    const auto cell = static_cast<std::int64_t>(c);
    at::Tensor sum = sums_[call.layer][call.step][cell];
    sum.add_(error);
    at::Tensor worst = worst_[call.layer][call.step][cell];
    worst.copy_(at::minimum(worst, error * worst_sign_));  // NaN propagates: a NaN is the worst
    ++samples_[(static_cast<std::size_t>(call.layer) * steps_ + call.step) * candidates_.size() +
               c];
  }
}

MetricGrid MetricAccumulator::result() const {
  MetricGrid grid(layers_, steps_, candidates_);
  grid.head_dim = head_dim_;
  if (!sums_.defined()) return grid;
  // The one device-to-host copy of the calibration: [layers, steps, candidates, 3] twice.
  const at::Tensor sums = sums_.to(at::kCPU).contiguous();
  const at::Tensor worst = worst_.to(at::kCPU).contiguous();
  const auto s = sums.accessor<double, 4>();
  const auto w = worst.accessor<double, 4>();
  for (int layer = 0; layer < layers_; ++layer) {
    for (int step = 0; step < steps_; ++step) {
      for (std::size_t c = 0; c < candidates_.size(); ++c) {
        const int n =
            samples_[(static_cast<std::size_t>(layer) * steps_ + step) * candidates_.size() + c];
        if (n == 0) continue;
        VariantStats& stats = grid.at(layer, step, candidates_[c]);
        stats.samples = n;
        const auto ci = static_cast<std::int64_t>(c);
        stats.cos_mean = s[layer][step][ci][kCos] / n;
        stats.rel_l1_mean = s[layer][step][ci][kRelL1] / n;
        stats.metric_mean = s[layer][step][ci][kCosL1] / n;
        stats.cos_worst = w[layer][step][ci][kCos];
        stats.rel_l1_worst = -w[layer][step][ci][kRelL1];
        stats.metric_worst = w[layer][step][ci][kCosL1];
      }
    }
  }
  return grid;
}

}  // namespace sagegen::calibrate
