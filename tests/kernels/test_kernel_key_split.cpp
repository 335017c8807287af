// The wgmma kernel's key split of the last wave (tiles.h KeySplit) around the kernel itself: the
// plan the device gets, calls on two streams at once (each stream has its own arrival counters)
// and calls replayed from a CUDA graph (a captured call gets counters of the graph's own, zeroed
// by the graph). KernelVsGolden checks the split values against the golden model.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#if SAGEGEN_TEST_CUDA_GRAPHS
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "kernel_case.h"
#include "kernel_checks.h"
#include "sageattn/attention.h"
#include "sageattn/tiles.h"
#include "wgmma_grid_setting.h"

namespace sagegen::kernel_tests {
namespace {

using sageattn::Variant;

// B2 H4 (2 KV heads) L1000: at hd128 2 x 4 x 6 = 48 tiles of 192 rows, at hd64 2 x 4 x 4 = 32
// of 256, 8 key blocks: on a device of 96 SMs or more, 2 splits per tile.
KernelCase split_case(int64_t head_dim = 128) {
  KernelCase c;
  c.variant = Variant::kSage2Int8;
  c.batch = 2;
  c.heads_q = 4;
  c.heads_kv = 2;
  c.len_q = c.len_k = 1000;
  c.head_dim = head_dim;
  return c;
}

#if SAGEGEN_TEST_CUDA_GRAPHS
// The split this device runs for case c, or none (then the caller skips: no sm_90a kernel).
sageattn::KeySplit device_split(const KernelCase& c, const GuardedInputs& in) {
  if (!sageattn::why_unsupported(in.q, in.k, in.v, c.options()).empty()) return {};
  return sageattn::kernel_numerics(in.q, in.k, in.v, c.options()).key_split;
}

#define SKIP_WITHOUT_SPLIT(split)                                                           \
  if ((split).splits < 2)                                                                   \
  GTEST_SKIP() << "no key split here (needs the sm_90a wgmma kernel; it plans splits from " \
                  "the SM count)"

TEST(KernelKeySplit, TheDevicePlanFollowsItsSmCount) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const auto& [head_dim, tiles] : {std::pair<int64_t, long long>{128, 2 * 4 * 6}, {64, 2 * 4 * 4}}) {
    SCOPED_TRACE("hd" + std::to_string(head_dim));
    const KernelCase c = split_case(head_dim);
    const GuardedInputs in = make_guarded_inputs(c, /*seed=*/21);
    const sageattn::KeySplit split = device_split(c, in);
    SKIP_WITHOUT_SPLIT(split);
    const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
    const sageattn::KeySplit expected = sageattn::plan_key_split(tiles, 8, sms, false);
    EXPECT_EQ(split.first_tile, expected.first_tile);
    EXPECT_EQ(split.splits, expected.splits);
    EXPECT_EQ(split.k_blocks, 8);
  }
}

void expect_two_streams_give_the_sequential_results(int64_t head_dim) {
  const KernelCase c = split_case(head_dim);
  const GuardedInputs a = make_guarded_inputs(c, /*seed=*/22);
  const GuardedInputs b = make_guarded_inputs(c, /*seed=*/23);
  SKIP_WITHOUT_SPLIT(device_split(c, a));
  const at::Tensor expected_a = sageattn::attention(a.q, a.k, a.v, c.options()).out;
  const at::Tensor expected_b = sageattn::attention(b.q, b.k, b.v, c.options()).out;
  const c10::cuda::CUDAStream s1 = c10::cuda::getStreamFromPool();
  const c10::cuda::CUDAStream s2 = c10::cuda::getStreamFromPool();
  // Both side streams start after the inputs exist; each queues several calls back to back.
  at::cuda::CUDAEvent ready;
  ready.record(c10::cuda::getCurrentCUDAStream());
  ready.block(s1);
  ready.block(s2);
  std::vector<at::Tensor> got_a, got_b;
  for (int i = 0; i < 4; ++i) {
    {
      const c10::cuda::CUDAStreamGuard guard(s1);
      got_a.push_back(sageattn::attention(a.q, a.k, a.v, c.options()).out);
    }
    {
      const c10::cuda::CUDAStreamGuard guard(s2);
      got_b.push_back(sageattn::attention(b.q, b.k, b.v, c.options()).out);
    }
  }
  s1.synchronize();
  s2.synchronize();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(at::equal(got_a[i], expected_a)) << "stream 1, call " << i;
    EXPECT_TRUE(at::equal(got_b[i], expected_b)) << "stream 2, call " << i;
  }
}

void expect_graph_replays_give_the_eager_result(int64_t head_dim) {
  const KernelCase c = split_case(head_dim);
  const GuardedInputs in = make_guarded_inputs(c, /*seed=*/24);
  SKIP_WITHOUT_SPLIT(device_split(c, in));
  const at::Tensor eager = sageattn::attention(in.q, in.k, in.v, c.options()).out;
  const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  at::cuda::CUDAEvent ready;
  ready.record(c10::cuda::getCurrentCUDAStream());
  ready.block(side);
  at::cuda::CUDAGraph graph;
  at::Tensor captured;
  {
    const c10::cuda::CUDAStreamGuard guard(side);
    graph.capture_begin();
    captured = sageattn::attention(in.q, in.k, in.v, c.options()).out;
    graph.capture_end();
  }
  for (int replay = 0; replay < 3; ++replay) {
    captured.fill_(0);  // a replay that wrote nothing would keep this
    graph.replay();
    at::cuda::device_synchronize();
    EXPECT_TRUE(at::equal(captured, eager)) << "replay " << replay;
  }
}

// Each check at hd128 and hd64, both of which split their last wave.
template <typename Check>
void for_both_head_dims(Check check) {
  for (const int64_t head_dim : {128, 64}) {
    SCOPED_TRACE("hd" + std::to_string(head_dim));
    check(head_dim);
  }
}

TEST(KernelKeySplit, CallsOnTwoStreamsAtOnceGiveTheSequentialResults) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for_both_head_dims(expect_two_streams_give_the_sequential_results);
}

TEST(KernelKeySplit, ACallReplayedFromACudaGraphGivesTheEagerResult) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for_both_head_dims(expect_graph_replays_give_the_eager_result);
}

// Five CTAs claiming the items through the stream's (or the graph's) counter, which each call
// must leave at zero for the next.
TEST(KernelKeySplit, PersistentCtasClaimItemsOnTwoStreamsAtOnce) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const ScopedWgmmaGrid five(sageattn::cuda_backend::WgmmaGrid::kPersistent, 5);
  for_both_head_dims(expect_two_streams_give_the_sequential_results);
}

TEST(KernelKeySplit, PersistentCtasClaimItemsInGraphReplays) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const ScopedWgmmaGrid five(sageattn::cuda_backend::WgmmaGrid::kPersistent, 5);
  for_both_head_dims(expect_graph_replays_give_the_eager_result);
}
#else
TEST(KernelKeySplit, NeedsLibtorchsCudaPart) {
  GTEST_SKIP() << "this libtorch has no CUDA part: no CUDA graphs or streams to test";
}
#endif

}  // namespace
}  // namespace sagegen::kernel_tests
