// The benchmark's flags (bench/bench_options.h) that choose what it measures rather than how
// long: the accuracy cases' random draws. No device needed.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "bench_options.h"

namespace sagegen::bench {
namespace {

BenchOptions parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static char program[] = "sagegen_bench_attention";
  argv.push_back(program);
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  return parse_options(static_cast<int>(argv.size()), argv.data(), &help);
}

std::string refusal(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(BenchOptions, AccuracySeedsDefaultToTheDocumentedDrawAndTakeAList) {
  EXPECT_TRUE(parse({"--accuracy-cases"}).accuracy_seeds.empty());
  EXPECT_EQ(parse({"--accuracy-cases", "--seeds", "1,2,30"}).accuracy_seeds,
            (std::vector<int64_t>{1, 2, 30}));
  EXPECT_NE(usage_text().find("--seeds"), std::string::npos);
}

TEST(BenchOptions, BadSeedsAreRefusedNamingTheFlag) {
  EXPECT_NE(refusal({"--seeds", "1,x"}).find("--seeds: 'x'"), std::string::npos);
  EXPECT_NE(refusal({"--seeds", "-3"}).find("--seeds: '-3'"), std::string::npos);
  EXPECT_NE(refusal({"--seeds", ","}).find("--seeds: empty list"), std::string::npos);
  EXPECT_NE(refusal({"--seeds"}).find("--seeds: needs a value"), std::string::npos);
}

}  // namespace
}  // namespace sagegen::bench
