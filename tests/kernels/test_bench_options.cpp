// The benchmark's flags (bench/bench_options.h) that choose what it measures rather than how
// long: the accuracy cases' random draws. No device needed.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "bench_args.h"

namespace sagegen::bench {
namespace {

std::string refusal(std::vector<std::string> args) {
  try {
    parse_bench_args(std::move(args));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(BenchOptions, AccuracySeedsDefaultToTheDocumentedDrawAndTakeAList) {
  EXPECT_TRUE(parse_bench_args({"--accuracy-cases"}).accuracy_seeds.empty());
  EXPECT_EQ(parse_bench_args({"--accuracy-cases", "--seeds", "1,2,30"}).accuracy_seeds,
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
