// bf16 autocast on CUDA for the span of one forward pass (the master weights stay fp32); does
// nothing on the CPU, where training runs in fp32. Under CUDA graph capture the cast cache is off
// (a cached cast would outlive the capture that made it); a weight is cast once per forward
// either way, so the values are the same.
#pragma once

#include <ATen/autocast_mode.h>

namespace sagegen::train {

class AutocastScope {
 public:
  explicit AutocastScope(bool enabled, bool cache = true) : enabled_(enabled) {
    if (!enabled_) return;
    previous_ = at::autocast::is_autocast_enabled(at::kCUDA);
    previous_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    previous_cache_ = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(cache);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!enabled_) return;
    // The cast weights are cached per autocast region; the optimizer changes them every step.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, previous_);
    at::autocast::set_autocast_dtype(at::kCUDA, previous_dtype_);
    at::autocast::set_autocast_cache_enabled(previous_cache_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  bool previous_ = false;
  bool previous_cache_ = true;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace sagegen::train
