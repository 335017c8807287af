// The adaptive precision table: range forms, first-match-wins, every load and model error with
// its file, line, column and key, the dense lookup, and YAML round trips.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sageattn/table.h"

namespace sageattn {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSource = "x.yaml";

PrecisionTable load(const std::string& yaml) { return PrecisionTable::load_string(yaml, kSource); }

// A table whose only rule has the given layers and steps (written as YAML values).
PrecisionTable one_rule(const std::string& layers, const std::string& steps) {
  return load("model: m\ndefault: fp16\nrules:\n  - {layers: " + layers + ", steps: " + steps +
              ", variant: sage2-4b}\n");
}

bool covers(const PrecisionTable& table, int layer, int step) {
  return table.match(layer, step) == Variant::kSage2Int4;
}

// Loads `yaml` expecting a TableError at line:column (1-based) for `key`, whose message holds
// `problem`; the message must start with "x.yaml:line:column: key: ".
void expect_error(const std::string& yaml, int line, int column, const std::string& key,
                  const std::string& problem) {
  SCOPED_TRACE(yaml);
  try {
    load(yaml);
    ADD_FAILURE() << "no error; expected " << key << ": " << problem;
  } catch (const TableError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.where().file, kSource);
    EXPECT_EQ(e.where().line, line) << message;
    EXPECT_EQ(e.where().column, column) << message;
    EXPECT_EQ(e.key(), key) << message;
    const std::string prefix = std::string(kSource) + ":" + std::to_string(line) + ":" +
                               std::to_string(column) + ": " + (key.empty() ? "" : key + ": ");
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
    EXPECT_NE(message.find(problem), std::string::npos) << message;
  }
}

// The process id keeps concurrent runs (ctest -j, several build folders) off each other's files.
std::string temp_path(const std::string& name) {
  return (fs::path(::testing::TempDir()) /
          ("sagegen_table_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Every decision of two tables over a grid larger than any rule here.
void expect_same_decisions(const PrecisionTable& a, const PrecisionTable& b) {
  EXPECT_EQ(a.model(), b.model());
  EXPECT_EQ(a.default_variant(), b.default_variant());
  for (int layer = 0; layer < 40; ++layer) {
    for (int step = 0; step < 60; ++step) {
      ASSERT_EQ(a.match(layer, step), b.match(layer, step))
          << "layer " << layer << " step " << step;
    }
  }
}

constexpr const char* kMixed = R"(# a mixed table
model: sagegen-tiny
default: sage2-8b
rules:
  - {layers: [0, 1], steps: all, variant: sage2-8b}
  - {layers: all, steps: [0, 2], variant: fp16}
  - {layers: "10-19", steps: "20-", variant: sage2-4b, comment: "cos*(1-L1) = 0.991"}
  - layers: [3, "5-6", "30-"]
    steps: 7
    variant: sage1
)";

// ---------------------------------------------------------------------------------------------
// Range forms

TEST(TableRanges, AllCoversEveryIndex) {
  const auto table = one_rule("all", "all");
  EXPECT_TRUE(covers(table, 0, 0));
  EXPECT_TRUE(covers(table, 999, 12345));
  EXPECT_TRUE(table.rules()[0].layers.is_all());
}

TEST(TableRanges, SingleIntIsOneIndex) {
  const auto table = one_rule("3", "all");
  EXPECT_FALSE(covers(table, 2, 0));
  EXPECT_TRUE(covers(table, 3, 0));
  EXPECT_FALSE(covers(table, 4, 0));
}

TEST(TableRanges, ClosedRangeIsInclusive) {
  const auto table = one_rule("\"10-19\"", "all");
  EXPECT_FALSE(covers(table, 9, 0));
  EXPECT_TRUE(covers(table, 10, 0));
  EXPECT_TRUE(covers(table, 15, 0));
  EXPECT_TRUE(covers(table, 19, 0));
  EXPECT_FALSE(covers(table, 20, 0));
}

TEST(TableRanges, UnquotedRangeAndOneIndexRange) {
  const auto table = one_rule("10-12", "\"4-4\"");
  EXPECT_TRUE(covers(table, 12, 4));
  EXPECT_FALSE(covers(table, 12, 3));
  EXPECT_FALSE(covers(table, 12, 5));
}

TEST(TableRanges, OpenRangeHasNoEnd) {
  const auto table = one_rule("all", "\"20-\"");
  EXPECT_FALSE(covers(table, 0, 19));
  EXPECT_TRUE(covers(table, 0, 20));
  EXPECT_TRUE(covers(table, 0, 100000));
  EXPECT_FALSE(table.rules()[0].steps.spans()[0].last.has_value());
}

TEST(TableRanges, ListIsASetNotARange) {
  // [0, 2] is {0, 2}: 1 is not in it (a range is written "0-2").
  const auto table = one_rule("all", "[0, 2]");
  EXPECT_TRUE(covers(table, 0, 0));
  EXPECT_FALSE(covers(table, 0, 1));
  EXPECT_TRUE(covers(table, 0, 2));
  EXPECT_FALSE(covers(table, 0, 3));
}

TEST(TableRanges, ListMixesIndicesAndRanges) {
  const auto table = one_rule("[1, \"4-5\", \"9-\"]", "all");
  for (int layer : {1, 4, 5, 9, 10, 500}) EXPECT_TRUE(covers(table, layer, 0)) << layer;
  for (int layer : {0, 2, 3, 6, 8}) EXPECT_FALSE(covers(table, layer, 0)) << layer;
}

TEST(TableRanges, BlockListAndSpacesAroundTheDash) {
  const auto table = load(
      "model: m\ndefault: fp16\nrules:\n  - layers:\n      - 0\n      - \" 2 - 3 \"\n"
      "    steps: all\n    variant: sage2-4b\n");
  EXPECT_TRUE(covers(table, 0, 0));
  EXPECT_FALSE(covers(table, 1, 0));
  EXPECT_TRUE(covers(table, 3, 0));
}

// ---------------------------------------------------------------------------------------------
// Matching

TEST(TableMatch, FirstMatchWinsAndDefaultFillsTheRest) {
  const auto table = load(kMixed);
  EXPECT_EQ(table.model(), "sagegen-tiny");
  EXPECT_EQ(table.default_variant(), Variant::kSage2Int8);
  ASSERT_EQ(table.rules().size(), 4u);
  // Layer 0 step 0: rule 0 (sage2-8b) wins over rule 1 (fp16).
  EXPECT_EQ(table.match(0, 0), Variant::kSage2Int8);
  EXPECT_EQ(table.match(1, 2), Variant::kSage2Int8);
  // Other layers at steps 0 and 2: rule 1.
  EXPECT_EQ(table.match(5, 0), Variant::kFp16);
  EXPECT_EQ(table.match(12, 2), Variant::kFp16);
  // Step 1 is not in {0, 2}: default.
  EXPECT_EQ(table.match(5, 1), Variant::kSage2Int8);
  // Rule 2: layers 10-19 from step 20.
  EXPECT_EQ(table.match(10, 20), Variant::kSage2Int4);
  EXPECT_EQ(table.match(19, 45), Variant::kSage2Int4);
  EXPECT_EQ(table.match(20, 45), Variant::kSage2Int8);
  EXPECT_EQ(table.match(10, 19), Variant::kSage2Int8);
  // Rule 3 (block style): layers {3, 5, 6, 30...} at step 7.
  EXPECT_EQ(table.match(3, 7), Variant::kSage1);
  EXPECT_EQ(table.match(6, 7), Variant::kSage1);
  EXPECT_EQ(table.match(31, 7), Variant::kSage1);
  EXPECT_EQ(table.match(4, 7), Variant::kSage2Int8);
  EXPECT_EQ(table.rules()[2].comment, "cos*(1-L1) = 0.991");
}

TEST(TableMatch, NoRulesMeansDefaultEverywhere) {
  for (const char* rules : {"", "rules: []\n", "rules:\n"}) {
    const auto table = load(std::string("model: m\ndefault: sage1\n") + rules);
    EXPECT_TRUE(table.rules().empty());
    EXPECT_EQ(table.match(0, 0), Variant::kSage1);
    EXPECT_EQ(table.match(77, 33), Variant::kSage1);
  }
}

TEST(TableMatch, RuleLocationsPointIntoTheFile) {
  const auto table = load(kMixed);
  EXPECT_EQ(table.rules()[0].where.line, 5);
  EXPECT_EQ(table.rules()[2].steps.spans()[0].where.line, 7);
  EXPECT_EQ(table.rules()[3].layers.spans()[1].where.line, 8);
  EXPECT_EQ(table.rules()[3].layers.spans()[1].where.column, 17);
}

TEST(TableMatch, NegativeIndexIsAnError) {
  const auto table = load(kMixed);
  EXPECT_THROW(table.match(-1, 0), std::out_of_range);
  EXPECT_THROW(table.match(0, -1), std::out_of_range);
}

TEST(TableMatch, UniformIsOneVariantEverywhere) {
  const auto table = PrecisionTable::uniform("sagegen-tiny", Variant::kFp16);
  const auto resolved = table.resolve("sagegen-tiny", 12, 20);
  EXPECT_EQ(resolved.count(Variant::kFp16), 12 * 20);
  EXPECT_THROW(table.validate_for("other", 12, 20), TableError);
}

// ---------------------------------------------------------------------------------------------
// Resolving for a model: the dense per-call lookup

TEST(TableResolve, DenseGridAgreesWithTheRuleScan) {
  const auto table = load(kMixed);
  const auto resolved = table.resolve("sagegen-tiny", 32, 30);
  EXPECT_EQ(resolved.num_layers(), 32);
  EXPECT_EQ(resolved.num_steps(), 30);
  int total = 0;
  for (int layer = 0; layer < 32; ++layer) {
    for (int step = 0; step < 30; ++step) {
      ASSERT_EQ(resolved.variant_for(layer, step), table.match(layer, step))
          << "layer " << layer << " step " << step;
    }
  }
  for (Variant v : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1, Variant::kFp16,
                    Variant::kAuto}) {
    total += resolved.count(v);
  }
  EXPECT_EQ(total, 32 * 30);
  // Rule 2: layers 10-19 x steps 20-29.
  EXPECT_EQ(resolved.count(Variant::kSage2Int4), 10 * 10);
}

TEST(TableResolve, WarnsAboutRulesThatDecideNothing) {
  const auto table = load(
      "model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: \"0-3\", variant: sage1}\n"
      "  - {layers: 1, steps: [2, 3], variant: sage2-4b}\n"
      "  - {layers: 1, steps: \"2-\", variant: sage2-8b}\n");
  // With 4 steps rule 1 is shadowed by rule 0; rule 2 still decides nothing at steps 2-3.
  const auto resolved = table.resolve("m", 2, 4);
  ASSERT_EQ(resolved.warnings().size(), 2u);
  EXPECT_EQ(resolved.warnings()[0].rfind("x.yaml:5:5: rules[1]: decides nothing", 0), 0u)
      << resolved.warnings()[0];
  EXPECT_EQ(resolved.warnings()[1].rfind("x.yaml:6:5: rules[2]: decides nothing", 0), 0u)
      << resolved.warnings()[1];
  // With 6 steps rule 2 decides (1, 4) and (1, 5).
  const auto longer = table.resolve("m", 2, 6);
  ASSERT_EQ(longer.warnings().size(), 1u);
  EXPECT_EQ(longer.variant_for(1, 5), Variant::kSage2Int8);
  EXPECT_TRUE(load(kMixed).resolve("sagegen-tiny", 32, 30).warnings().empty());
  // On a temporary, warnings() hands its lines over by value (safe in a range-for).
  int lines = 0;
  for (const auto& line : table.resolve("m", 2, 4).warnings()) lines += line.empty() ? 0 : 1;
  EXPECT_EQ(lines, 2);
}

TEST(TableResolve, LookupOutsideTheGridThrowsNamingTheBounds) {
  const auto resolved = load(kMixed).resolve("sagegen-tiny", 32, 30);
  for (auto [layer, step] :
       {std::pair{32, 0}, std::pair{0, 30}, std::pair{-1, 0}, std::pair{0, -1}}) {
    try {
      resolved.variant_for(layer, step);
      ADD_FAILURE() << "no error for layer " << layer << " step " << step;
    } catch (const std::out_of_range& e) {
      EXPECT_NE(std::string(e.what()).find("32 layers x 30 steps"), std::string::npos) << e.what();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// validate_for: the table against a model

// Expects validate_for to fail at line:column for key with `problem` in the message.
void expect_model_error(const PrecisionTable& table, const std::string& model, int layers,
                        int steps, int line, int column, const std::string& key,
                        const std::string& problem) {
  try {
    table.validate_for(model, layers, steps);
    ADD_FAILURE() << "no error; expected " << key << ": " << problem;
  } catch (const TableError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.where().line, line) << message;
    EXPECT_EQ(e.where().column, column) << message;
    EXPECT_EQ(e.key(), key) << message;
    const std::string prefix = std::string(kSource) + ":" + std::to_string(line) + ":" +
                               std::to_string(column) + ": " + key + ": ";
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
    EXPECT_NE(message.find(problem), std::string::npos) << message;
  }
}

TEST(TableValidateFor, AcceptsATableThatFits) {
  EXPECT_NO_THROW(load(kMixed).validate_for("sagegen-tiny", 31, 21));
}

TEST(TableValidateFor, WrongModelName) {
  expect_model_error(load(kMixed), "wan2.1-1.3b", 31, 21, 2, 8, "model",
                     "the table is for \"sagegen-tiny\", not for the model \"wan2.1-1.3b\"");
}

TEST(TableValidateFor, LayerPastTheModel) {
  // Rule 3's layer "30-" starts past a 30-layer model (layers 0-29).
  expect_model_error(load(kMixed), "sagegen-tiny", 30, 21, 8, 24, "rules[3].layers[2]",
                     "layer \"30-\" is outside the model (the model has 30 layers: 0-29)");
  // Rule 2's "10-19" reaches past a 15-layer model; rule 0's [0, 1] fits.
  const auto table = load(
      "model: m\ndefault: fp16\nrules:\n  - {layers: [0, 1], steps: all, variant: fp16}\n"
      "  - {layers: \"10-19\", steps: all, variant: fp16}\n");
  expect_model_error(table, "m", 15, 4, 5, 14, "rules[1].layers",
                     "layer \"10-19\" is outside the model (the model has 15 layers: 0-14)");
  expect_model_error(table, "m", 1, 4, 4, 18, "rules[0].layers[1]", "layer \"1\" is outside");
}

TEST(TableValidateFor, StepPastTheRun) {
  // Rule 2's steps "20-" with 20 steps (0-19).
  expect_model_error(load(kMixed), "sagegen-tiny", 31, 20, 7, 30, "rules[2].steps",
                     "step \"20-\" is outside the run (the run has 20 steps: 0-19)");
  // Rule 1's [0, 2] with 2 steps: the item 2.
  expect_model_error(load(kMixed), "sagegen-tiny", 31, 2, 6, 30, "rules[1].steps[1]",
                     "step \"2\" is outside");
}

TEST(TableValidateFor, ResolveValidatesFirst) {
  EXPECT_THROW(load(kMixed).resolve("sagegen-tiny", 31, 20), TableError);
}

TEST(TableValidateFor, RejectsEmptyModelShapes) {
  EXPECT_THROW(load(kMixed).validate_for("sagegen-tiny", 0, 20), std::invalid_argument);
  EXPECT_THROW(load(kMixed).validate_for("sagegen-tiny", 31, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Load errors: each names file, line, column and key

TEST(TableErrors, ReversedRangeMatchesTheDocumentedFormat) {
  const std::string yaml =
      "model: m\n"
      "default: fp16\n"
      "rules:\n"
      "  - {layers: all, steps: all, variant: fp16}\n"
      "  - {layers: all, steps: all, variant: fp16}\n"
      "  - layers: all\n"
      "    steps: \"20-10\"\n"
      "    variant: fp16\n";
  try {
    load(yaml);
    FAIL() << "no error";
  } catch (const TableError& e) {
    EXPECT_STREQ(e.what(), "x.yaml:7:12: rules[2].steps: bad range \"20-10\" (start after end)");
  }
}

TEST(TableErrors, ReversedRangeInAList) {
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: [1, \"5-4\"], steps: all, variant: fp16}\n", 4,
      18, "rules[0].layers[1]", "bad range \"5-4\" (start after end)");
}

TEST(TableErrors, BadRangeSyntax) {
  for (const char* bad :
       {"\"1..3\"", "abc", "\"3-x\"", "\"-\"", "\"1-2-3\"", "2.5", "\"+3\"", "\"0x10\"", "\"\""}) {
    SCOPED_TRACE(bad);
    expect_error(std::string("model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: ") + bad +
                     ", variant: fp16}\n",
                 4, 26, "rules[0].steps", "bad range");
  }
  // Without a letter, dot or star an item of layers is read as a number too (with a letter it
  // is read as a layer name: test_table_layer_names.cpp).
  for (const char* bad : {"\"-\"", "\"1-2-3\"", "\"+3\"", "\"\""}) {
    SCOPED_TRACE(bad);
    expect_error(std::string("model: m\ndefault: fp16\nrules:\n  - {layers: ") + bad +
                     ", steps: all, variant: fp16}\n",
                 4, 14, "rules[0].layers", "bad range");
  }
}

TEST(TableErrors, NegativeNumbers) {
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: -3, steps: all, variant: fp16}\n", 4,
               14, "rules[0].layers", "negative number \"-3\"");
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: [0, -1], variant: fp16}\n", 4, 30,
      "rules[0].steps[1]", "negative number \"-1\"");
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: \"-2-5\", steps: all, variant: fp16}\n", 4, 14,
      "rules[0].layers", "negative number");
}

TEST(TableErrors, TooLargeIndex) {
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: 99999999999999999999, steps: all, variant: "
      "fp16}\n",
      4, 14, "rules[0].layers", "too large");
}

TEST(TableErrors, UnknownVariantListsTheValidNames) {
  expect_error("model: m\ndefault: sage3\n", 2, 10, "default",
               "unknown variant \"sage3\" (one of: sage2-8b, sage2-4b, sage1, fp16, auto)");
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: all, variant: int4}\n", 4,
               40, "rules[0].variant", "unknown variant \"int4\" (one of: sage2-8b");
  expect_error("model: m\ndefault: [fp16]\n", 2, 10, "default",
               "must be a variant name, got a list");
}

TEST(TableErrors, UnknownKeys) {
  expect_error("model: m\ndefault: fp16\nrule: []\n", 3, 1, "rule",
               "unknown key (expected one of: model, default, rules)");
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: all, varient: fp16}\n", 4,
               31, "rules[0].varient",
               "unknown key (expected one of: layers, steps, variant, comment)");
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - layers: all\n    steps: all\n    variant: fp16\n"
      "    why: test\n",
      7, 5, "rules[0].why", "unknown key");
}

TEST(TableErrors, DuplicateKeys) {
  expect_error("model: m\ndefault: fp16\ndefault: sage1\n", 3, 1, "default", "duplicate key");
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: all, steps: 1, variant: fp16}\n",
      4, 31, "rules[0].steps", "duplicate key");
}

TEST(TableErrors, MissingRequiredKeys) {
  expect_error("default: fp16\n", 1, 1, "model", "missing required key");
  expect_error("model: m\n", 1, 1, "default", "missing required key");
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: all}\n", 4, 5,
               "rules[0].variant", "missing required key");
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: all, variant: fp16}\n"
      "  - steps: all\n    variant: fp16\n",
      5, 5, "rules[1].layers", "missing required key");
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: all, variant: fp16}\n", 4, 5,
               "rules[0].steps", "missing required key");
}

TEST(TableErrors, KeysWithoutValues) {
  expect_error("model:\ndefault: fp16\n", 1, 1, "model", "has no value");
  expect_error("model: m\ndefault: fp16\nrules:\n  - layers:\n    steps: all\n    variant: fp16\n",
               4, 5, "rules[0].layers", "has no value");
  expect_error("model: \"\"\ndefault: fp16\n", 1, 8, "model", "must name a model");
}

TEST(TableErrors, WrongShapes) {
  expect_error("- model: m\n", 1, 1, "", "the table must be a mapping");
  expect_error("model: m\ndefault: fp16\nrules: {layers: all}\n", 3, 8, "rules",
               "must be a list of rules");
  expect_error("model: m\ndefault: fp16\nrules:\n  - fp16\n", 4, 5, "rules[0]",
               "a rule must be a mapping");
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: {a: 1}, steps: all, variant: fp16}\n",
               4, 14, "rules[0].layers", "got a mapping");
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: [[1]], steps: all, variant: fp16}\n",
               4, 15, "rules[0].layers[0]", "got a list");
  expect_error("model: m\ndefault: fp16\nrules:\n  - {layers: [], steps: all, variant: fp16}\n", 4,
               14, "rules[0].layers", "empty list matches nothing");
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: [1, all], steps: all, variant: fp16}\n", 4, 18,
      "rules[0].layers[1]", "all cannot be part of a list");
  expect_error("model: [m]\ndefault: fp16\n", 1, 8, "model", "must be a string, got a list");
  expect_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: all, steps: all, variant: fp16, comment: "
      "[x]}\n",
      4, 55, "rules[0].comment", "must be a string");
}

TEST(TableErrors, EmptyDocument) {
  for (const char* text : {"", "# only a comment\n", "~\n"}) {
    try {
      load(text);
      ADD_FAILURE() << "no error for " << text;
    } catch (const TableError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("x.yaml: the table is empty", 0), 0u) << e.what();
    }
  }
}

// Expects a YAML syntax error on `line`. The column is where yaml-cpp's parser gave up, an
// implementation detail that may move between yaml-cpp 0.7 (Debian) and 0.8 (the GPU machine),
// so only its presence is checked. Returns the message.
std::string expect_syntax_error(const std::string& yaml, int line) {
  SCOPED_TRACE(yaml);
  try {
    load(yaml);
  } catch (const TableError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.where().line, line) << message;
    EXPECT_GE(e.where().column, 1) << message;
    EXPECT_EQ(e.key(), "") << message;
    EXPECT_EQ(message.rfind("x.yaml:" + std::to_string(line) + ":", 0), 0u) << message;
    EXPECT_NE(message.find(": YAML syntax error: "), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(TableErrors, YamlSyntaxErrorsCarryTheLine) {
  // Bad indentation: the continuation of the mapping is indented deeper than its first key.
  const std::string indent = expect_syntax_error("model: m\ndefault: fp16\n  rules: []\n", 3);
  EXPECT_EQ(indent.find("tabs"), std::string::npos) << indent;
  // An unclosed flow list.
  expect_syntax_error(
      "model: m\ndefault: fp16\nrules:\n  - {layers: [0, 1, steps: all, variant: fp16}\n", 4);
  // A tab used for indentation: the message says so, whatever yaml-cpp calls it.
  const std::string tab = expect_syntax_error(
      "model: m\ndefault: fp16\nrules:\n\t- {layers: all, steps: all, variant: fp16}\n", 4);
  EXPECT_NE(tab.find("tabs cannot indent YAML"), std::string::npos) << tab;
}

TEST(TableErrors, FileErrorsNameThePath) {
  const std::string path = temp_path("bad.yaml");
  write_file(path,
             "model: m\ndefault: fp16\nrules:\n  - {layers: \"9-1\", steps: all, variant: fp16}\n");
  try {
    PrecisionTable::load_file(path);
    FAIL() << "no error";
  } catch (const TableError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":4:14: rules[0].layers: bad range \"9-1\" (start after end)");
  }
  fs::remove(path);
  const std::string missing = temp_path("does_not_exist.yaml");
  try {
    PrecisionTable::load_file(missing);
    FAIL() << "no error";
  } catch (const TableError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(missing + ": cannot open the table file", 0), 0u)
        << e.what();
  }
}

TEST(TableErrors, TablesBuiltInCodeAreCheckedToo) {
  IndexSpan reversed;
  reversed.first = 5;
  reversed.last = 2;
  TableRule rule;
  rule.layers = IndexSet::of({reversed});
  rule.steps = IndexSet::all();
  try {
    PrecisionTable("m", Variant::kFp16, {rule}, "calibration");
    FAIL() << "no error";
  } catch (const TableError& e) {
    EXPECT_STREQ(e.what(), "calibration: rules[0].layers: bad range \"5-2\" (start after end)");
  }
  IndexSpan negative;
  negative.first = -1;
  rule.layers = IndexSet::all();
  rule.steps = IndexSet::of({IndexSpan{}, negative});
  try {
    PrecisionTable("m", Variant::kFp16, {rule}, "calibration");
    FAIL() << "no error";
  } catch (const TableError& e) {
    EXPECT_STREQ(e.what(),
                 "calibration: rules[0].steps[1]: negative index -1 (indices count from 0)");
  }
  rule.steps = IndexSet::of({});
  EXPECT_THROW(PrecisionTable("m", Variant::kFp16, {rule}), TableError);
  EXPECT_THROW(PrecisionTable("", Variant::kFp16, {}), TableError);
}

// ---------------------------------------------------------------------------------------------
// Saving

TEST(TableSave, RoundTripKeepsDecisionsAndComments) {
  const auto table = load(kMixed);
  const std::string yaml = table.to_yaml("written by a test\nsecond line");
  const auto again = PrecisionTable::load_string(yaml, "saved.yaml");
  expect_same_decisions(table, again);
  ASSERT_EQ(again.rules().size(), table.rules().size());
  for (std::size_t i = 0; i < table.rules().size(); ++i) {
    EXPECT_EQ(again.rules()[i].comment, table.rules()[i].comment);
    EXPECT_EQ(again.rules()[i].layers.written_as_list(), table.rules()[i].layers.written_as_list());
  }
  EXPECT_EQ(yaml.rfind("# written by a test\n# second line\n# sagegen adaptive precision table", 0),
            0u)
      << yaml;
  // Saving is stable: a saved table saves to the same text.
  EXPECT_EQ(again.to_yaml("written by a test\nsecond line"), yaml);
}

TEST(TableSave, SaveAndLoadFile) {
  const auto table = load(kMixed);
  const std::string path = temp_path("saved.yaml");
  table.save(path, "round trip");
  const auto again = PrecisionTable::load_file(path);
  expect_same_decisions(table, again);
  EXPECT_EQ(again.source_name(), path);
  fs::remove(path);
  EXPECT_THROW(table.save(temp_path("no_such_dir/x/y.yaml")), TableError);
}

TEST(TableSave, BuiltInCodeWithAwkwardTextRoundTrips) {
  IndexSpan open;
  open.first = 4;
  IndexSpan single;
  single.first = 2;
  single.last = 2;
  IndexSpan range;
  range.first = 6;
  range.last = 9;
  TableRule rule;
  rule.layers = IndexSet::of({single, range});
  rule.steps = IndexSet::of({open});
  rule.variant = Variant::kSage2Int4;
  rule.comment = "quote \" backslash \\ newline \n tab \t # not a comment: colon";
  TableRule listed_single;
  listed_single.layers = IndexSet::of({single}, true);
  listed_single.steps = IndexSet::all();
  listed_single.variant = Variant::kSage1;
  for (const char* model : {"sagegen-tiny", "null", "123", "a model: with colon", "yes"}) {
    SCOPED_TRACE(model);
    const PrecisionTable table(model, Variant::kFp16, {rule, listed_single}, "calibration");
    const auto again = PrecisionTable::load_string(table.to_yaml(), "saved.yaml");
    expect_same_decisions(table, again);
    EXPECT_EQ(again.rules()[0].comment, rule.comment);
    EXPECT_TRUE(again.rules()[1].layers.written_as_list());
  }
}

TEST(TableSave, EmptyRulesRoundTrip) {
  const auto table = PrecisionTable::uniform("sagegen-tiny", Variant::kSage2Int8);
  const auto again = PrecisionTable::load_string(table.to_yaml(), "saved.yaml");
  expect_same_decisions(table, again);
  EXPECT_TRUE(again.rules().empty());
}

// ---------------------------------------------------------------------------------------------
// The tables shipped in configs/tables/

TEST(TableShipped, LoadAndFitTheTinyModel) {
  const fs::path dir = fs::path(SAGEGEN_SOURCE_DIR) / "configs" / "tables";
  int tables = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const auto table = PrecisionTable::load_file(entry.path().string());
    // sagegen-tiny: depth 8 (16 attention layers), 20 steps by default. (A calibrated table
    // names the layers and steps it was calibrated for, so smaller models and shorter runs are
    // not asked of every table.)
    EXPECT_NO_THROW(table.resolve(table.model(), 16, 20));
    ++tables;
  }
  EXPECT_GE(tables, 3);
  EXPECT_EQ(PrecisionTable::load_file((dir / "tiny-8bit.yaml").string())
                .resolve("sagegen-tiny", 16, 20)
                .count(Variant::kSage2Int8),
            16 * 20);
  EXPECT_EQ(PrecisionTable::load_file((dir / "fp16.yaml").string())
                .resolve("sagegen-tiny", 16, 20)
                .count(Variant::kFp16),
            16 * 20);
}

}  // namespace
}  // namespace sageattn
