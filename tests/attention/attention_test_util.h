// Shared helpers of the attention CPU tests: inputs with the outlier structure of real models
// and a check that a call fails with a given message.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <utility>
#include <sstream>
#include <string>

#include "sageattn/metrics.h"
#include "sageattn/reference.h"
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

// One attention problem of a shape sweep and the cosine similarity to exact attention it must
// reach (GoldenShapes, GoldenWgmma).
struct ShapeCase {
  Shape shape;
  Variant variant;
  bool causal;
  Layout layout;
  at::ScalarType dtype;
  double min_cos;

  std::string str() const {
    std::ostringstream s;
    s << shape.str() << " " << to_string(variant) << (causal ? " causal " : " ")
      << to_string(layout) << " " << dtype;
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

// golden_attention_rows on each [begin, end) of `slices` against the same rows of the full
// golden run under `numerics`. The S of a slice differs from the full run's by FP32 summation
// order, and where that moves a P8 across an E4M3 rounding boundary (spacing 16 just below 256,
// 1/16 of the row's largest P) the row moves by up to a few percent of a V value: at most a 50th
// of the (row, head) pairs may move by more than 1e-3, none by 0.1; the LSE agrees to 1e-5.
inline void expect_row_slices_equal_the_full_run(
    const Inputs& in, const AttentionOptions& opts, const KernelNumerics& numerics,
    std::initializer_list<std::pair<int64_t, int64_t>> slices) {
  const AttentionResult full = reference::golden_attention(in.q, in.k, in.v, opts, numerics);
  const int64_t token_dim = opts.layout == Layout::kNHD ? 1 : 2;
  for (const auto& [begin, end] : slices) {
    SCOPED_TRACE("rows [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
    const AttentionResult part =
        reference::golden_attention_rows(in.q, in.k, in.v, opts, begin, end, numerics);
    const at::Tensor diff = (part.out.to(at::kFloat) -
                             full.out.narrow(token_dim, begin, end - begin).to(at::kFloat))
                                .abs();
    const at::Tensor moved_rows = (diff > 1e-3f).any(-1);  // [B, rows, H] or [B, H, rows]
    EXPECT_LE(moved_rows.sum().item<int64_t>(), moved_rows.numel() / 50);
    EXPECT_LT(diff.max().item<float>(), 0.1f);
    EXPECT_LT(diff.mean().item<float>(), 1e-4f);
    if (opts.return_lse) {
      EXPECT_TRUE(at::allclose(part.lse, full.lse.narrow(2, begin, end - begin), 1e-5, 1e-5));
    }
  }
}

// The golden model under `numerics` against exact attention on case `c` (inputs with outliers,
// seed 1234): output shape and dtype, LSE shape, the case's cosine bound, and the LSE error.
// LSE carries the error of the quantized scores (about one INT step of the outlier Q channels),
// so its bound is absolute and looser for INT4.
inline void expect_golden_matches_exact(const ShapeCase& c, const KernelNumerics& numerics) {
  SCOPED_TRACE(c.str());
  const Inputs in = make_inputs(c.shape, 1234, c.dtype, c.layout);
  AttentionOptions opts;
  opts.variant = c.variant;
  opts.causal = c.causal;
  opts.layout = c.layout;
  opts.return_lse = true;
  const AttentionResult golden = reference::golden_attention(in.q, in.k, in.v, opts, numerics);
  const AttentionResult exact = reference::exact_attention(in.q, in.k, in.v, opts);
  EXPECT_EQ(golden.out.sizes(), in.q.sizes());
  EXPECT_EQ(golden.out.scalar_type(), c.dtype);
  ASSERT_TRUE(golden.lse.defined());
  EXPECT_EQ(golden.lse.sizes(), (at::IntArrayRef{c.shape.batch, c.shape.heads_q, c.shape.len_q}));
  const ErrorMetrics m = compare(golden.out, exact.out);
  EXPECT_EQ(m.nonfinite, 0);
  EXPECT_GE(m.cos_sim, c.min_cos) << m.str();
  const at::Tensor lse_err = (golden.lse.to(at::kDouble) - exact.lse).abs();
  const bool int4 = c.variant == Variant::kSage2Int4;
  EXPECT_LT(lse_err.mean().item<double>(), int4 ? 0.6 : 0.06);
  EXPECT_LT(lse_err.max().item<double>(), int4 ? 4.0 : 0.5);
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
