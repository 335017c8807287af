// Sequence parallelism (Ulysses over c10d): the layout steps in one process, then real process
// groups of 2 and 3 ranks on the CPU (Gloo) started from here, including a rank that dies.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "rank_processes.h"
#include "sagegen/attention_context.h"
#include "sagegen/parallel/process_group.h"
#include "sagegen/parallel/ulysses.h"
#include "tiny_dit.h"

namespace sagegen {
namespace {

using parallel::HeadShare;
using parallel::SequenceShard;

TEST(UlyssesPlan, UnevenTokensAndHeadsPadTheLastRanks) {
  // 7 tokens over 3 ranks: shards of 3, the last holds 1 real token and 2 pad rows.
  EXPECT_EQ(parallel::plan_sequence_shard(7, 0, 3).real_tokens(), 3);
  EXPECT_EQ(parallel::plan_sequence_shard(7, 2, 3).real_tokens(), 1);
  EXPECT_EQ(parallel::plan_sequence_shard(7, 2, 3).padded_length(), 9);
  // Fewer tokens than ranks: the last rank holds only padding.
  EXPECT_EQ(parallel::plan_sequence_shard(2, 2, 3).real_tokens(), 0);
  // 2 heads over 3 ranks: one head each for ranks 0 and 1, none for rank 2.
  EXPECT_EQ(parallel::plan_head_share(2, 1, 3).real_heads(), 1);
  EXPECT_EQ(parallel::plan_head_share(2, 2, 3).real_heads(), 0);
  EXPECT_EQ(parallel::plan_head_share(5, 1, 2).begin(), 3);
  EXPECT_EQ(parallel::plan_head_share(5, 1, 2).real_heads(), 2);
  EXPECT_THROW(parallel::plan_sequence_shard(7, 3, 3), c10::Error);
}

// Runs both all-to-alls of every rank with the exchange done by hand (chunk j of rank i goes to
// rank j as chunk i), checking what attention would see and that the way back restores the shard.
void check_simulated_exchange(std::int64_t length, int heads, int world) {
  SCOPED_TRACE("L " + std::to_string(length) + ", H " + std::to_string(heads) + ", N " +
               std::to_string(world));
  const at::Tensor full = at::randn({2, length, heads, 4});
  std::vector<at::Tensor> packed;
  for (int r = 0; r < world; ++r) {
    packed.push_back(parallel::pack_tokens_for_heads(
        parallel::take_shard(full, parallel::plan_sequence_shard(length, r, world)), world));
  }
  const auto exchange = [&](const std::vector<at::Tensor>& sent, int to) {
    std::vector<at::Tensor> chunks;
    for (int from = 0; from < world; ++from) chunks.push_back(sent[from][to]);
    return at::stack(chunks);
  };
  std::vector<at::Tensor> back;
  for (int r = 0; r < world; ++r) {
    const SequenceShard shard = parallel::plan_sequence_shard(length, r, world);
    const HeadShare share = parallel::plan_head_share(heads, r, world);
    const at::Tensor seen = parallel::unpack_full_sequence(exchange(packed, r), shard, share);
    ASSERT_TRUE(at::equal(seen, full.slice(2, share.begin(), share.begin() + share.real_heads())));
    back.push_back(parallel::pack_heads_for_tokens(seen, shard, share));
  }
  for (int r = 0; r < world; ++r) {
    const SequenceShard shard = parallel::plan_sequence_shard(length, r, world);
    EXPECT_TRUE(at::equal(parallel::unpack_local_tokens(exchange(back, r), heads),
                          parallel::take_shard(full, shard)));
  }
}

TEST(UlyssesLayout, SimulatedExchangeSeesWholeSequencesAndRoundTrips) {
  for (const int world : {1, 2, 3, 4}) {
    for (const std::int64_t length : {1, 7, 12}) {
      for (const int heads : {1, 2, 3, 5}) check_simulated_exchange(length, heads, world);
    }
  }
}

// ---- real process groups (Gloo) ---------------------------------------------------------------

constexpr auto kDeadline = std::chrono::seconds(120);
// After one rank failed, the others get this long to fail on their own before they are killed.
constexpr auto kGrace = std::chrono::seconds(5);

std::string describe(const testing::RanksRun& run) {
  std::string text;
  for (std::size_t r = 0; r < run.ranks.size(); ++r) {
    text += "rank " + std::to_string(r) + " exit " + std::to_string(run.ranks[r].exit_code) +
            ": " + run.ranks[r].stderr_text + "\n";
  }
  return text;
}

class SequenceParallelGloo : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!parallel::has_gloo()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev)";
  }
  testing::RanksRun run(int world, const std::vector<std::string>& args,
                        std::map<std::string, std::string> env = {}) {
    env.emplace("SAGEGEN_DIST_TIMEOUT_S", "20");
    return testing::run_ranks(SAGEGEN_PARALLEL_WORKER, args, world, env,
                              (dir_.path() / "rank").string(), kDeadline, kGrace);
  }
  testing::TempDir dir_{"sagegen-parallel"};
};

TEST_F(SequenceParallelGloo, AllToAllLayoutAndGatherExactOnTwoAndThreeRanks) {
  // 12 tokens, 4 heads over 2 ranks: even. 7 tokens, 2 heads over 3: the last rank holds one
  // real token, and no head.
  for (const auto& [world, length, heads] :
       std::vector<std::tuple<int, int, int>>{{2, 12, 4}, {3, 7, 2}, {3, 2, 5}}) {
    const testing::RanksRun result =
        run(world, {"layout", std::to_string(length), std::to_string(heads)});
    for (const auto& rank : result.ranks) EXPECT_EQ(rank.exit_code, 0) << describe(result);
  }
}

// The unsplit forward pass of the same model and inputs, in this process.
at::Tensor one_rank_output(int heads, bool joint, int frames, int height, int width,
                           sageattn::Variant variant) {
  c10::InferenceMode inference;
  const DitConfig config = testing::tiny_parallel_dit(heads, joint);
  const auto dit = testing::tiny_random_dit(config);
  const testing::TinyDitInputs in = testing::tiny_dit_inputs(config, frames, height, width);
  AttentionContext attention(config.depth * 2);
  attention.use_override(variant);
  return dit->forward(in.x, in.timestep, in.text, attention).contiguous();
}

at::Tensor read_floats(const std::filesystem::path& path, at::IntArrayRef shape) {
  at::Tensor out = at::empty(shape, at::kFloat);
  std::ifstream file(path, std::ios::binary);
  file.read(static_cast<char*>(out.data_ptr()), out.numel() * sizeof(float));
  EXPECT_EQ(file.gcount(), static_cast<std::streamsize>(out.numel() * sizeof(float))) << path;
  return out;
}

struct SplitCase {
  int world, heads;
  bool joint;
  int frames, height, width;
  const char* variant;
};

// Max |N-rank - 1-rank| relative to max |1-rank|.
double split_error(SplitCase c, const std::filesystem::path& out) {
  const at::Tensor expected = one_rank_output(c.heads, c.joint, c.frames, c.height, c.width,
                                              sageattn::parse_variant(c.variant).value());
  const at::Tensor got = read_floats(out, expected.sizes());
  return (got - expected).abs().max().item<double>() / expected.abs().max().item<double>();
}

// Bound for fp32 on the CPU: the attention calls see bit-identical inputs (self-attention:
// the whole sequence, per head; cross-attention: rows are independent), but the linear layers
// multiply a shard of S rows instead of L, and the BLAS may block (and so sum) differently for
// another row count. That is a few fp32 ulps per layer, far below 1e-5.
constexpr double kFp32SplitBound = 1e-5;

TEST_F(SequenceParallelGloo, TinyDitOnTwoRanksMatchesOneRank) {
  // 3 frames of 6x6 pixels: 27 tokens, odd, so the second shard carries a pad row.
  const SplitCase c{2, 2, false, 3, 6, 6, "fp16"};
  const auto out = dir_.path() / "out.bin";
  const testing::RanksRun result =
      run(c.world, {"model", "2", "0", "3", "6", "6", c.variant, out.string()});
  for (const auto& rank : result.ranks) ASSERT_EQ(rank.exit_code, 0) << describe(result);
  const double error = split_error(c, out);
  std::printf("2 ranks, cross-attention, fp16: max relative difference to 1 rank %.3g\n", error);
  EXPECT_LE(error, kFp32SplitBound);
}

TEST_F(SequenceParallelGloo, TinyDitJointAttentionOnThreeRanksWithUnevenHeadsMatchesOneRank) {
  // Joint attention (5 text tokens + 2*2*3 = 12 video tokens = 17 over 3 ranks) and 2 heads
  // over 3 ranks: rank 2 runs no attention call.
  const SplitCase c{3, 2, true, 2, 4, 6, "fp16"};
  const auto out = dir_.path() / "out.bin";
  const testing::RanksRun result =
      run(c.world, {"model", "2", "1", "2", "4", "6", c.variant, out.string()});
  for (const auto& rank : result.ranks) ASSERT_EQ(rank.exit_code, 0) << describe(result);
  const double error = split_error(c, out);
  std::printf("3 ranks, joint attention, 2 heads, fp16: max relative difference %.3g\n", error);
  EXPECT_LE(error, kFp32SplitBound);
}

// ---- CFG split over ranks (parallel/cfg_parallel.h) ------------------------------------------

// The one-rank CFG batch [x, x] of the worker's "cfg" scenario: 2 heads, 3x6x6 pixels.
at::Tensor one_rank_cfg_output() {
  c10::InferenceMode inference;
  const DitConfig config = testing::tiny_parallel_dit(2, false);
  const auto dit = testing::tiny_random_dit(config);
  const testing::TinyDitInputs in = testing::tiny_dit_inputs(config, 3, 6, 6);
  const at::Tensor x = in.x.slice(0, 0, 1);
  AttentionContext attention(config.depth * 2);
  attention.use_override(sageattn::Variant::kFp16);
  return dit->forward(at::cat({x, x}), in.timestep, in.text, attention).contiguous();
}

// Runs the "cfg" scenario on `world` ranks; checks every rank's output against one rank within
// kFp32SplitBound and that the split was (not) used; returns the largest relative difference.
double check_cfg_run(int world, bool expect_split,
                     const std::filesystem::path& out, const testing::RanksRun& result) {
  const at::Tensor expected = one_rank_cfg_output();
  double worst = 0;
  for (int r = 0; r < world; ++r) {
    EXPECT_EQ(result.ranks[r].exit_code, 0) << describe(result);
    EXPECT_NE(result.ranks[r].stderr_text.find(expect_split ? "cfg split: on" : "cfg split: off"),
              std::string::npos) << describe(result);
    const at::Tensor got = read_floats(out.string() + ".rank" + std::to_string(r), expected.sizes());
    worst = std::max(worst, (got - expected).abs().max().item<double>() /
                                expected.abs().max().item<double>());
  }
  return worst;
}

// Bound: the same kFp32SplitBound (1e-5 of the largest output): each branch is a batch of 1
// instead of a row of the batch of 2, so the linear layers multiply half as many rows (another
// BLAS blocking, a few fp32 ulps); attention sees the same keys per head; the exchange is a copy.
TEST_F(SequenceParallelGloo, CfgSplitOnTwoRanksMatchesOneRank) {
  const auto out = dir_.path() / "cfg.bin";
  const testing::RanksRun result = run(2, {"cfg", "2", "3", "6", "6", out.string()});
  const double error = check_cfg_run(2, true, out, result);
  std::printf("CFG split, 2 ranks (one branch each): max relative difference to 1 rank %.3g\n",
              error);
  EXPECT_LE(error, kFp32SplitBound);
}

TEST_F(SequenceParallelGloo, CfgSplitOnFourRanksRunsUlyssesInsideEachBranch) {
  // 2 groups of 2, 27 tokens (uneven shards) and 1 head a rank inside each group.
  const auto out = dir_.path() / "cfg.bin";
  const testing::RanksRun result = run(4, {"cfg", "2", "3", "6", "6", out.string()});
  const double error = check_cfg_run(4, true, out, result);
  std::printf("CFG split, 4 ranks (2 a branch): max relative difference to 1 rank %.3g\n", error);
  EXPECT_LE(error, kFp32SplitBound);
}

TEST_F(SequenceParallelGloo, CfgSplitFallsBackToUlyssesOnOddRanksOrWhenOff) {
  const auto out = dir_.path() / "cfg.bin";
  const testing::RanksRun odd = run(3, {"cfg", "2", "3", "6", "6", out.string()});
  EXPECT_LE(check_cfg_run(3, false, out, odd), kFp32SplitBound);
  const testing::RanksRun off =
      run(2, {"cfg", "2", "3", "6", "6", out.string()}, {{"SAGEGEN_CFG_PARALLEL", "off"}});
  EXPECT_LE(check_cfg_run(2, false, out, off), kFp32SplitBound);
  const testing::RanksRun bad =
      run(2, {"cfg", "2", "3", "6", "6", out.string()}, {{"SAGEGEN_CFG_PARALLEL", "yes"}});
  for (const auto& rank : bad.ranks) {
    EXPECT_EQ(rank.exit_code, 1) << describe(bad);
    EXPECT_NE(rank.stderr_text.find("SAGEGEN_CFG_PARALLEL='yes'"), std::string::npos)
        << describe(bad);
  }
}

TEST_F(SequenceParallelGloo, RankThatDiesMakesTheOthersFailWithoutOutput) {
  const auto out = dir_.path() / "out.bin";
  const testing::RanksRun result =
      run(2, {"model", "2", "0", "3", "6", "6", "fp16", out.string(), "die", "1"});
  EXPECT_EQ(result.ranks[1].exit_code, 3) << describe(result);
  EXPECT_EQ(result.ranks[0].exit_code, 1) << describe(result);
  EXPECT_NE(result.ranks[0].stderr_text.find("rank 0 of 2: all_to_all failed"), std::string::npos)
      << describe(result);
  EXPECT_LT(result.seconds, 20.0) << "a dead peer closes its sockets: no need to wait the timeout";
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(SequenceParallelGloo, RankThatHangsMakesTheOthersFailAfterTheTimeout) {
  const auto out = dir_.path() / "out.bin";
  const testing::RanksRun result =
      run(2, {"model", "2", "0", "3", "6", "6", "fp16", out.string(), "hang", "1"},
          {{"SAGEGEN_DIST_TIMEOUT_S", "3"}});
  EXPECT_EQ(result.ranks[0].exit_code, 1) << describe(result);
  EXPECT_NE(result.ranks[0].stderr_text.find("all_to_all failed"), std::string::npos)
      << describe(result);
  EXPECT_EQ(result.ranks[1].exit_code, -1) << "the hanging rank is killed by the runner";
  EXPECT_LT(result.seconds, 3 + 5 + 10.0);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace sagegen
