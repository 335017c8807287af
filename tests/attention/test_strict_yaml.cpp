// The strict YAML reader shared by the adaptive tables (sageattn) and the configs (sagegen):
// every error names the file, the line and column of the offending node and the full key path,
// whichever client reads the document.
#include <gtest/gtest.h>

#include <string>

#include "strict_yaml/strict_yaml.h"

namespace strict_yaml {
namespace {

// The error `read` throws; fails the test when it throws none.
template <class Read>
Error error_of(Read&& read) {
  try {
    read();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no strict_yaml::Error";
  return Error({}, "", "");
}

void expect_at(const Error& e, int line, int column, const std::string& key,
               const std::string& problem) {
  EXPECT_EQ(e.where().file, "x.yaml") << e.what();
  EXPECT_EQ(e.where().line, line) << e.what();
  EXPECT_EQ(e.where().column, column) << e.what();
  EXPECT_EQ(e.key(), key) << e.what();
  EXPECT_EQ(e.problem(), problem) << e.what();
}

TEST(StrictYaml, SyntaxErrorsNameTheLineAndATabIndent) {
  const Error brace = error_of([] { parse_document("a: 1\nb: [1, 2\n", "x.yaml"); });
  EXPECT_GE(brace.where().line, 2) << brace.what();
  EXPECT_EQ(brace.key(), "");
  EXPECT_EQ(brace.problem().rfind("YAML syntax error: ", 0), 0u) << brace.what();
  EXPECT_EQ(brace.problem().find("tabs"), std::string::npos) << brace.what();
  const Error tab = error_of([] { parse_document("a:\n\t- 1\n", "x.yaml"); });
  EXPECT_EQ(tab.where().line, 2) << tab.what();
  EXPECT_NE(tab.problem().find("tabs cannot indent YAML"), std::string::npos) << tab.what();
}

TEST(StrictYaml, MessagesAreFileLineColumnKeyProblem) {
  const Error e = error_of([] {
    StrictMap(parse_document("dit:\n  depth: two\n", "x.yaml"), "x.yaml", "")
        .child("dit")
        .required_int("depth", 1);
  });
  expect_at(e, 2, 10, "dit.depth", "expected an integer, got 'two'");
  EXPECT_STREQ(e.what(), "x.yaml:2:10: dit.depth: expected an integer, got 'two'");
  const Error no_line({"x.yaml"}, "", "empty");
  EXPECT_STREQ(no_line.what(), "x.yaml: empty");
}

TEST(StrictYaml, UnknownAndDuplicateKeysPointAtTheKey) {
  const YAML::Node root = parse_document("model: m\nrules: []\nmodle: n\n", "x.yaml");
  expect_at(error_of([&] {
              StrictMap(root, "x.yaml", "").check_keys({"model", "rules"});
            }),
            3, 1, "modle", "unknown key (expected one of: model, rules)");
  const YAML::Node twice = parse_document("dit:\n  depth: 2\n  depth: 3\n", "x.yaml");
  expect_at(error_of([&] { StrictMap(twice, "x.yaml", "").child("dit").check_keys({"depth"}); }), 3,
            3, "dit.depth", "duplicate key");
  // Keys never asked for, after reading: the plain "unknown key" of the configs.
  expect_at(error_of([&] {
              StrictMap map(parse_document("depth: 2\ncolour: red\n", "x.yaml"), "x.yaml", "");
              map.required_int("depth", 1);
              map.reject_unknown_keys();
            }),
            2, 1, "colour", "unknown key");
}

TEST(StrictYaml, MissingKeysPointAtTheMappingAndEmptyValuesAtTheKey) {
  const YAML::Node root = parse_document("name: a\ndit:\n  width:\n  heads: 2\n", "x.yaml");
  StrictMap dit = StrictMap(root, "x.yaml", "").child("dit");
  expect_at(error_of([&] { dit.required("depth"); }), 3, 3, "dit.depth", "missing required key");
  expect_at(error_of([&] { dit.required("width"); }), 3, 3, "dit.width", "has no value");
  expect_at(error_of([&] { StrictMap(root, "x.yaml", "").child("name"); }), 1, 7, "name",
            "expected a mapping");
}

}  // namespace
}  // namespace strict_yaml
