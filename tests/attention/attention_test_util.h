// Shared helpers of the attention CPU tests: inputs with the outlier structure of real models
// and a check that a call fails with a given message.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <string>

#include "sageattn/types.h"

namespace sageattn::test {

struct Shape {
  int64_t batch = 1;
  int64_t heads_q = 2;
  int64_t heads_kv = 2;
  int64_t len_q = 128;
  int64_t len_k = 128;
  int64_t head_dim = 64;

  std::string str() const {
    std::ostringstream s;
    s << "B" << batch << " Hq" << heads_q << " Hkv" << heads_kv << " Lq" << len_q << " Lk"
      << len_k << " D" << head_dim;
    return s.str();
  }
};

struct Inputs {
  at::Tensor q, k, v;
};

// Gaussian q, k, v (sigma 1) with the outliers that make quantization hard in real models:
// every K channel carries a bias of 3-5 sigma (random sign), every 16th Q channel is 10x larger
// and every Q channel has a bias of 1-2 sigma, V channels carry a bias of up to 2 sigma. Generated in float32 HND, then cast to `dtype` and
// laid out as `layout` (contiguous).
inline Inputs make_inputs(const Shape& s, uint64_t seed, at::ScalarType dtype = at::kHalf,
                          Layout layout = Layout::kHND, bool outliers = true) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  at::Tensor q = at::randn({s.batch, s.heads_q, s.len_q, s.head_dim}, gen, opts);
  at::Tensor k = at::randn({s.batch, s.heads_kv, s.len_k, s.head_dim}, gen, opts);
  at::Tensor v = at::randn({s.batch, s.heads_kv, s.len_k, s.head_dim}, gen, opts);
  if (outliers) {
    const at::Tensor sign =
        at::where(at::rand({s.head_dim}, gen, opts) < 0.5, at::full({}, -1.0f), at::full({}, 1.0f));
    const at::Tensor k_bias = sign * (3.0f + 2.0f * at::rand({s.head_dim}, gen, opts));
    k = k + k_bias;
    at::Tensor q_gain = at::ones({s.head_dim}, opts);
    q_gain.slice(0, 0, s.head_dim, 16).fill_(10.0f);
    q = q * q_gain + sign.flip(0) * (1.0f + at::rand({s.head_dim}, gen, opts));
    v = v + 2.0f * (2.0f * at::rand({s.head_dim}, gen, opts) - 1.0f);
  }
  auto finish = [&](const at::Tensor& x) {
    const at::Tensor laid = layout == Layout::kNHD ? x.transpose(1, 2) : x;
    return laid.to(dtype).contiguous();
  };
  return {finish(q), finish(k), finish(v)};
}

// Runs `call` and checks it throws an exception whose message contains every `parts` string.
inline void expect_error(const std::function<void()>& call, std::initializer_list<std::string> parts) {
  try {
    call();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    for (const auto& part : parts) {
      EXPECT_NE(what.find(part), std::string::npos)
          << "message lacks \"" << part << "\":\n" << what.substr(0, 600);
    }
    return;
  }
  ADD_FAILURE() << "expected an error mentioning \"" << *parts.begin() << "\", got none";
}

}  // namespace sageattn::test
