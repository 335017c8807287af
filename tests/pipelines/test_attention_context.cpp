// The attention context: variant routing for (layer, step) through override, table and
// fallback; call counting; the observer; text-encoder ids outside the table.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "sagegen/attention_context.h"

namespace sagegen {
namespace {

using sageattn::Variant;

// 4 layer ids (a 2-block DiT), 3 steps.
sageattn::ResolvedTable mixed_table() {
  const auto table = sageattn::PrecisionTable::load_string(R"(
model: test-model
default: sage2-8b
rules:
  - {layers: all, steps: 0, variant: fp16}
  - {layers: [1, 3], steps: all, variant: sage1}
  - {layers: 2, steps: "2-", variant: sage2-4b}
)",
                                                           "mixed.yaml");
  return table.resolve("test-model", 4, 3);
}

at::Tensor small_qkv(std::int64_t tokens) { return at::randn({1, tokens, 2, 64}); }  // NHD

TEST(AttentionContext, LayerIdsSeparateSelfAndCross) {
  EXPECT_EQ(AttentionContext::self_attention_layer(0), 0);
  EXPECT_EQ(AttentionContext::cross_attention_layer(0), 1);
  EXPECT_EQ(AttentionContext::self_attention_layer(5), 10);
  EXPECT_EQ(AttentionContext::cross_attention_layer(5), 11);
}

TEST(AttentionContext, TableDecidesPerLayerAndStep) {
  AttentionContext context(4);
  context.use_table(mixed_table(), "mixed.yaml");
  context.set_step(0);
  for (int layer = 0; layer < 4; ++layer) EXPECT_EQ(context.variant_for(layer), Variant::kFp16);
  context.set_step(1);
  EXPECT_EQ(context.variant_for(0), Variant::kSage2Int8);
  EXPECT_EQ(context.variant_for(1), Variant::kSage1);
  EXPECT_EQ(context.variant_for(2), Variant::kSage2Int8);
  EXPECT_EQ(context.variant_for(3), Variant::kSage1);
  context.set_step(2);
  EXPECT_EQ(context.variant_for(2), Variant::kSage2Int4);
  // Ids past the DiT's (the text encoder) and the pre-sampling step stay in full precision.
  EXPECT_EQ(context.variant_for(4), Variant::kFp16);
  context.set_step(-1);
  EXPECT_EQ(context.variant_for(0), Variant::kFp16);
  EXPECT_THROW(context.set_step(3), c10::Error);
  EXPECT_THROW(context.variant_for(-1), c10::Error);
}

TEST(AttentionContext, OverrideBeatsTableAndFallbackIsUsedWithoutEither) {
  AttentionContext context(4, Variant::kSage1);
  context.set_step(0);
  EXPECT_EQ(context.variant_for(0), Variant::kSage1);
  context.use_table(mixed_table(), "mixed.yaml");
  EXPECT_EQ(context.variant_for(0), Variant::kFp16);
  context.use_override(Variant::kSage2Int4);
  EXPECT_EQ(context.variant_for(0), Variant::kSage2Int4);
  EXPECT_EQ(context.variant_for(3), Variant::kSage2Int4);
  context.use_override(std::nullopt);
  EXPECT_EQ(context.variant_for(0), Variant::kFp16);
}

TEST(AttentionContext, TableOfAnotherSizeIsRefused) {
  AttentionContext context(6);
  EXPECT_THROW(context.use_table(mixed_table(), "mixed.yaml"), c10::Error);
}

TEST(AttentionContext, RoutesCallsAndCountsThemPerVariant) {
  AttentionContext context(4);
  context.use_table(mixed_table(), "mixed.yaml");
  struct Seen {
    int layer, step;
    Variant variant;
  };
  std::vector<Seen> seen;
  context.set_observer([&](const AttentionCall& call) {
    seen.push_back({call.layer, call.step, call.variant});
    EXPECT_EQ(call.out.sizes(), call.q.sizes());
  });
  const at::Tensor q = small_qkv(16), k = small_qkv(24), v = small_qkv(24);
  for (int step = 0; step < 3; ++step) {
    context.set_step(step);
    for (int layer = 0; layer < 4; ++layer) {
      const at::Tensor out = context.attend(q, k, v, layer);
      EXPECT_EQ(out.sizes(), q.sizes());
      EXPECT_TRUE(out.isfinite().all().item<bool>());
    }
  }
  context.set_step(-1);
  context.attend(q, k, v, 4);  // a text-encoder call

  const auto counts = context.call_counts();
  // step 0: 4 fp16; steps 1-2: layers 1, 3 sage1 (4), layer 0 sage2-8b (2), layer 2 8b then 4b.
  EXPECT_EQ(counts.at("fp16"), 5);
  EXPECT_EQ(counts.at("sage1"), 4);
  EXPECT_EQ(counts.at("sage2-8b"), 3);
  EXPECT_EQ(counts.at("sage2-4b"), 1);
  EXPECT_EQ(context.total_calls(), 13);
  ASSERT_EQ(seen.size(), 13u);
  EXPECT_EQ(seen[6].layer, 2);
  EXPECT_EQ(seen[6].step, 1);
  EXPECT_EQ(seen[6].variant, Variant::kSage2Int8);
  EXPECT_EQ(seen[10].variant, Variant::kSage2Int4);
  EXPECT_EQ(seen[12].step, -1);
  context.reset_counts();
  EXPECT_EQ(context.total_calls(), 0);
}

TEST(AttentionContext, FullPrecisionCallMatchesPlainAttention) {
  AttentionContext context(2);
  context.use_override(Variant::kFp16);
  context.set_step(0);
  const at::Tensor q = small_qkv(10), k = small_qkv(12), v = small_qkv(12);
  const at::Tensor out = context.attend(q, k, v, 0);
  // [B, L, H, D] -> [B, H, L, D] for the plain formula
  const at::Tensor qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);
  const at::Tensor expected =
      at::matmul(at::softmax(at::matmul(qh, kh.transpose(-1, -2)) / 8.0, -1), vh).transpose(1, 2);
  EXPECT_TRUE(at::allclose(out, expected, 1e-4, 1e-5));
}

TEST(AttentionContext, AutoResolvesToFullPrecisionOnTheCpu) {
  AttentionContext context(2);  // fallback auto
  context.set_step(0);
  const at::Tensor q = small_qkv(8);
  context.attend(q, q, q, 0);
  EXPECT_EQ(context.call_counts().at("fp16"), 1);
}

}  // namespace
}  // namespace sagegen
