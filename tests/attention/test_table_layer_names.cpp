// Layers named as diffusers names a DiT block's attention modules (blocks.N.attn1 self-attention
// = layer 2N, blocks.N.attn2 cross-attention = 2N + 1): parsing, patterns and ranges, errors
// with file, line, column and key, checks against a model, and writing names back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sageattn/layer_names.h"
#include "sageattn/table.h"

namespace sageattn {
namespace {

constexpr const char* kSource = "names.yaml";

PrecisionTable with_layers(const std::string& layers) {
  return PrecisionTable::load_string(
      "model: m\ndefault: fp16\nrules:\n  - {layers: " + layers + ", steps: all, variant: sage2-4b}\n",
      kSource);
}

// The layer ids in [0, 40) a table's only rule covers.
std::vector<int> covered(const PrecisionTable& table) {
  std::vector<int> layers;
  for (int layer = 0; layer < 40; ++layer) {
    if (table.match(layer, 0) == Variant::kSage2Int4) layers.push_back(layer);
  }
  return layers;
}

std::vector<int> ids(int first, int last, int stride) {
  std::vector<int> out;
  for (int i = first; i <= last; i += stride) out.push_back(i);
  return out;
}

// The TableError `run` throws, as "file:line:column: key: problem".
template <typename Run>
std::string error_of(Run run) {
  try {
    run();
  } catch (const TableError& e) {
    return e.what();
  }
  return "no error";
}

TEST(TableLayerNames, TheNamingIsTwoLayersPerBlock) {
  EXPECT_EQ(self_attention_layer(3), 6);
  EXPECT_EQ(cross_attention_layer(3), 7);
  EXPECT_EQ(layer_name(0), "blocks.0.attn1");
  EXPECT_EQ(layer_name(7), "blocks.3.attn2");
  EXPECT_EQ(layer_name(38), "blocks.19.attn1");
  EXPECT_THROW(layer_name(-1), std::out_of_range);
}

TEST(TableLayerNames, OneLayerByName) {
  EXPECT_EQ(covered(with_layers("blocks.3.attn1")), (std::vector<int>{6}));
  EXPECT_EQ(covered(with_layers("blocks.3.attn2")), (std::vector<int>{7}));
  EXPECT_EQ(covered(with_layers("blocks.0.attn1")), (std::vector<int>{0}));
  EXPECT_EQ(covered(with_layers("\"blocks.3.attn2\"")), (std::vector<int>{7}));
}

TEST(TableLayerNames, AWholeBlockIsBothItsLayers) {
  EXPECT_EQ(covered(with_layers("blocks.3")), (std::vector<int>{6, 7}));
  EXPECT_EQ(covered(with_layers("\"blocks.2-4\"")), ids(4, 9, 1));
  EXPECT_EQ(covered(with_layers("\"blocks.*\"")), ids(0, 39, 1));
}

TEST(TableLayerNames, PatternsAndRangesKeepTheirKind) {
  EXPECT_EQ(covered(with_layers("\"blocks.*.attn2\"")), ids(1, 39, 2));
  EXPECT_EQ(covered(with_layers("\"blocks.*.attn1\"")), ids(0, 38, 2));
  EXPECT_EQ(covered(with_layers("\"blocks.10-19.attn1\"")), ids(20, 38, 2));
  EXPECT_EQ(covered(with_layers("\"blocks.2-4.attn2\"")), (std::vector<int>{5, 7, 9}));
  EXPECT_EQ(covered(with_layers("\"blocks.15-.attn2\"")), ids(31, 39, 2));
  EXPECT_EQ(covered(with_layers("\"blocks.1 - 2.attn1\"")), (std::vector<int>{2, 4}));
}

TEST(TableLayerNames, NamesAndIdsMixInOneList) {
  EXPECT_EQ(covered(with_layers("[0, blocks.3.attn2, \"blocks.5-6.attn1\", \"30-31\"]")),
            (std::vector<int>{0, 7, 10, 12, 30, 31}));
}

TEST(TableLayerNames, FirstMatchStillWins) {
  // All cross-attention in fp16, then every layer of blocks 0-1 in sage1, the rest sage2-8b.
  const auto table = PrecisionTable::load_string(R"(model: m
default: sage2-8b
rules:
  - {layers: "blocks.*.attn2", steps: all, variant: fp16}
  - {layers: "blocks.0-1", steps: all, variant: sage1}
)",
                                                 kSource);
  EXPECT_EQ(table.match(0, 0), Variant::kSage1);
  EXPECT_EQ(table.match(1, 0), Variant::kFp16);
  EXPECT_EQ(table.match(2, 5), Variant::kSage1);
  EXPECT_EQ(table.match(3, 5), Variant::kFp16);
  EXPECT_EQ(table.match(4, 5), Variant::kSage2Int8);
  EXPECT_EQ(table.match(5, 5), Variant::kFp16);
}

TEST(TableLayerNames, UnknownNamesAreLocatedErrors) {
  for (const char* bad :
       {"block.3.attn1", "blocks.3.attn3", "blocks.3.attn", "transformer_blocks.0.attn1",
        "attn2", "blocks.x.attn1", "blocks.", "\"blocks.-1.attn1\"", "blocks.3.attn1.to_q",
        "abc", "2.5", "\"0x10\"", "\"blocks.**\""}) {
    SCOPED_TRACE(bad);
    const std::string message = error_of([&] { with_layers(bad); });
    EXPECT_EQ(message.rfind("names.yaml:4:14: rules[0].layers: unknown layer name", 0), 0u)
        << message;
    EXPECT_NE(message.find("blocks.N.attn1 for self-attention"), std::string::npos) << message;
  }
  // In a list: the item's own column and key.
  EXPECT_EQ(error_of([] { with_layers("[0, blocks.1.attn9]"); }).rfind(
                "names.yaml:4:18: rules[0].layers[1]: unknown layer name \"blocks.1.attn9\"", 0),
            0u);
}

TEST(TableLayerNames, ReversedAndHugeBlockRanges) {
  EXPECT_EQ(error_of([] { with_layers("\"blocks.5-3.attn1\""); }),
            "names.yaml:4:14: rules[0].layers: bad range \"blocks.5-3.attn1\" (start after end)");
  EXPECT_NE(error_of([] { with_layers("blocks.99999999999.attn1"); }).find("too large"),
            std::string::npos);
}

TEST(TableLayerNames, StepsAreNeverNames) {
  const std::string message = error_of([] {
    PrecisionTable::load_string(
        "model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: blocks.1, variant: fp16}\n",
        kSource);
  });
  EXPECT_EQ(message.rfind("names.yaml:4:26: rules[0].steps: bad range \"blocks.1\"", 0), 0u)
      << message;
  // Built in code: a named span of steps is refused too.
  TableRule rule;
  rule.layers = IndexSet::all();
  IndexSpan named;
  named.first = 1;
  named.form = SpanForm::kCrossAttention;
  rule.steps = IndexSet::of({named});
  EXPECT_NE(error_of([&] { PrecisionTable("m", Variant::kFp16, {rule}, "code"); })
                .find("layer names are for layers"),
            std::string::npos);
}

TEST(TableLayerNames, BlocksOutsideTheModelNameTheBlocks) {
  // An 8-layer model has blocks 0-3.
  const auto table = with_layers("[blocks.1.attn2, \"blocks.2-4.attn1\"]");
  const std::string message = error_of([&] { table.validate_for("m", 8, 4); });
  EXPECT_EQ(message,
            "names.yaml:4:31: rules[0].layers[1]: \"blocks.2-4.attn1\" is outside the model (the "
            "model has 4 blocks: blocks.0-3, 8 layers)");
  EXPECT_NO_THROW(table.validate_for("m", 10, 4));
  EXPECT_NE(error_of([] { with_layers("\"blocks.4-.attn2\"").validate_for("m", 8, 4); })
                .find("\"blocks.4-.attn2\" is outside the model"),
            std::string::npos);
  // Every block always fits.
  EXPECT_NO_THROW(with_layers("\"blocks.*.attn2\"").validate_for("m", 2, 4));
  EXPECT_NO_THROW(with_layers("\"blocks.*\"").resolve("m", 2, 4));
}

TEST(TableLayerNames, ResolveGivesTheNamedLayers) {
  const ResolvedTable resolved = with_layers("\"blocks.*.attn2\"").resolve("m", 8, 3);
  for (int layer = 0; layer < 8; ++layer) {
    EXPECT_EQ(resolved.variant_for(layer, 2),
              layer % 2 == 1 ? Variant::kSage2Int4 : Variant::kFp16)
        << layer;
  }
}

TEST(TableLayerNames, SavedAsWrittenAndReadBackTheSame) {
  const auto table = PrecisionTable::load_string(R"(model: m
default: sage2-8b
rules:
  - {layers: "blocks.*.attn2", steps: all, variant: fp16}
  - {layers: [blocks.0, "blocks.2-3.attn1", 9], steps: "2-", variant: sage1}
  - {layers: blocks.4.attn1, steps: 0, variant: sage2-4b}
)",
                                                 kSource);
  const std::string yaml = table.to_yaml();
  EXPECT_NE(yaml.find("- {layers: \"blocks.*.attn2\", steps: all, variant: fp16}"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("- {layers: [blocks.0, \"blocks.2-3.attn1\", 9], steps: \"2-\""),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("- {layers: blocks.4.attn1, steps: 0"), std::string::npos) << yaml;
  const auto again = PrecisionTable::load_string(yaml, "saved.yaml");
  for (int layer = 0; layer < 40; ++layer) {
    for (int step = 0; step < 6; ++step) {
      ASSERT_EQ(again.match(layer, step), table.match(layer, step)) << layer << ", " << step;
    }
  }
  EXPECT_EQ(again.to_yaml(), yaml);
  EXPECT_EQ(to_string(table.rules()[1].layers), "[blocks.0, blocks.2-3.attn1, 9]");
}

TEST(TableLayerNames, OfNamedLayersWritesTheFewestNames) {
  // 6 blocks (12 layers).
  const auto named = [](std::vector<int> layers) {
    return to_string(IndexSet::of_named_layers(std::move(layers), 12));
  };
  EXPECT_EQ(named({7}), "blocks.3.attn2");
  EXPECT_EQ(named({6, 7}), "blocks.3");
  EXPECT_EQ(named({1, 3, 5, 7, 9, 11}), "blocks.*.attn2");
  EXPECT_EQ(named({0, 2, 4, 6, 8, 10}), "blocks.*.attn1");
  EXPECT_EQ(named({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), "blocks.*");
  EXPECT_EQ(named({9, 0, 1, 2, 3, 4, 6}), "[blocks.0-1, blocks.2-3.attn1, blocks.4.attn2]");
  EXPECT_EQ(named({3, 5, 7, 2}), "[blocks.1, blocks.2-3.attn2]");
  EXPECT_THROW(IndexSet::of_named_layers({12}, 12), std::invalid_argument);
  // Written and read back: the same layers.
  const std::vector<int> layers = {0, 1, 2, 4, 5, 7, 9, 10, 11};
  TableRule rule;
  rule.layers = IndexSet::of_named_layers(layers, 12);
  rule.steps = IndexSet::all();
  rule.variant = Variant::kSage2Int4;
  const PrecisionTable table("m", Variant::kFp16, {rule}, "code");
  const auto again = PrecisionTable::load_string(table.to_yaml(), "saved.yaml");
  std::vector<int> read_back;
  for (int layer = 0; layer < 12; ++layer) {
    if (again.match(layer, 0) == Variant::kSage2Int4) read_back.push_back(layer);
  }
  EXPECT_EQ(read_back, layers);
}

TEST(TableLayerNames, NamedSpansBuiltInCodeMustAlignWithTheirForm) {
  TableRule rule;
  rule.steps = IndexSet::all();
  IndexSpan odd_self;  // a self-attention span starting on a cross-attention layer
  odd_self.first = 3;
  odd_self.last = 6;
  odd_self.form = SpanForm::kSelfAttention;
  rule.layers = IndexSet::of({odd_self});
  EXPECT_NE(error_of([&] { PrecisionTable("m", Variant::kFp16, {rule}, "code"); })
                .find("does not start and end on layers of its form"),
            std::string::npos);
}

TEST(TableLayerNames, RulesAppendedBeforeTheDefault) {
  // The model's rule decides only what the user's rules leave to the default.
  const auto user = PrecisionTable::load_string(
      "model: m\ndefault: sage2-8b\nrules:\n  - {layers: blocks.1.attn2, steps: all, variant: "
      "sage2-4b}\n",
      kSource);
  TableRule cross;
  IndexSpan every_cross;
  every_cross.first = 1;
  every_cross.form = SpanForm::kCrossAttention;
  cross.layers = IndexSet::of({every_cross});
  cross.steps = IndexSet::all();
  cross.variant = Variant::kFp16;
  cross.where = {"model_index.json"};
  const PrecisionTable joined = user.with_rules_before_default({cross});
  EXPECT_EQ(joined.match(0, 0), Variant::kSage2Int8);  // self: the user's default
  EXPECT_EQ(joined.match(1, 0), Variant::kFp16);       // cross: the model's rule
  EXPECT_EQ(joined.match(3, 0), Variant::kSage2Int4);  // cross the user named: the user's rule
  EXPECT_EQ(joined.source_name(), kSource);
  ASSERT_EQ(joined.rules().size(), 2u);
  EXPECT_EQ(joined.rules()[1].where.file, "model_index.json");
  EXPECT_EQ(user.rules().size(), 1u);  // the user's table is unchanged
}

}  // namespace
}  // namespace sageattn
