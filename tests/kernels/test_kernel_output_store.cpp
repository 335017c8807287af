// The sm_90a wgmma kernel's two ways of writing O (docs/kernels.md, "Output through TMA"): a
// shared-memory tile per consumer stored with TMA, and per-thread stores. Both must write the same
// bits on the same inputs; each case also checks that it exercises the path its name promises
// (TMA where a tensor map fits the output, per-thread stores where head_dim * 2 bytes is not a
// multiple of 16). The golden-model comparison of both paths is KernelVsGolden's (all_kernel_cases
// has head dims of each kind); this suite pins the two paths to each other.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda_backend.h"
#include "kernel_case.h"
#include "kernel_checks.h"
#include "sageattn/attention.h"

namespace sagegen::kernel_tests {
namespace {

using sageattn::KernelFamily;
using sageattn::Layout;
using sageattn::cuda_backend::OutputStore;

struct OutputStoreCase {
  KernelCase kernel;
  bool tma;  // the kAuto setting stores this output through TMA

  std::string name() const { return kernel.name() + (tma ? "_tma" : "_threads"); }
};

void PrintTo(const OutputStoreCase& c, std::ostream* os) { *os << c.name(); }

std::vector<OutputStoreCase> output_store_cases() {
  std::vector<OutputStoreCase> cases;
  auto add = [&](int64_t b, int64_t hq, int64_t hkv, int64_t lq, int64_t lk, int64_t d, bool causal,
                 at::ScalarType dtype, Layout layout, bool tma) {
    cases.push_back({shaped_case(b, hq, hkv, lq, lk, d, causal, dtype, layout), tma});
  };
  // TMA: both layouts and dtypes, both padded head dims, lengths off the Q tile (192 rows at
  // hd128, 256 at hd64; the box clips the rows past len_q), one row, narrower head dims (the box
  // clips the channels).
  add(2, 2, 2, 1000, 1000, 128, false, at::kBFloat16, Layout::kHND, true);
  add(1, 4, 2, 113, 1000, 64, true, at::kHalf, Layout::kNHD, true);
  add(2, 2, 2, 1, 300, 128, false, at::kBFloat16, Layout::kHND, true);
  add(1, 2, 2, 75, 75, 72, false, at::kBFloat16, Layout::kHND, true);
  add(1, 3, 3, 500, 500, 40, true, at::kHalf, Layout::kNHD, true);
  add(1, 2, 2, 1000, 1000, 96, false, at::kBFloat16, Layout::kNHD, true);
  cases.back().kernel.smooth_v = true;  // the V mean staged with the factors
  add(1, 2, 2, 1000, 1000, 128, true, at::kBFloat16, Layout::kHND, true);
  cases.back().kernel.smooth_q = true;  // the kernel's delta_s instance
  add(1, 2, 2, 1000, 1000, 128, false, at::kHalf, Layout::kHND, true);
  cases.back().kernel.family = KernelFamily::kWgmma2;  // two consumers
  // Per-thread stores: token strides of 200 and 74 bytes (the odd one with scalar stores).
  add(1, 2, 2, 300, 300, 100, false, at::kBFloat16, Layout::kHND, false);
  add(1, 2, 2, 113, 113, 37, true, at::kHalf, Layout::kNHD, false);
  return cases;
}

// Puts the process's store setting back however the test ends.
class OutputStoreSetting {
 public:
  OutputStoreSetting() : saved_(sageattn::cuda_backend::output_store()) {}
  ~OutputStoreSetting() { sageattn::cuda_backend::set_output_store(saved_); }
  OutputStoreSetting(const OutputStoreSetting&) = delete;
  OutputStoreSetting& operator=(const OutputStoreSetting&) = delete;

 private:
  OutputStore saved_;
};

class WgmmaOutputStore : public ::testing::TestWithParam<OutputStoreCase> {};

TEST_P(WgmmaOutputStore, TmaAndThreadStoresWriteTheSameBits) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the GPU kernel tests need one";
  const OutputStoreCase& c = GetParam();
  const GuardedInputs in = make_guarded_inputs(c.kernel, /*seed=*/29);
  sageattn::AttentionOptions options = c.kernel.options();
  options.return_lse = true;
  if (const std::string why = why_not_wgmma(in.q, in.k, in.v, options); !why.empty()) {
    GTEST_SKIP() << why;
  }
  const OutputStoreSetting restore;

  auto run = [&](OutputStore store) {
    sageattn::cuda_backend::set_output_store(store);
    poison_cuda_allocator(int64_t{64} << 20);
    return sageattn::attention(in.q, in.k, in.v, options);
  };
  const sageattn::AttentionResult tma = run(OutputStore::kAuto);
  const sageattn::AttentionResult threads = run(OutputStore::kThreads);

  const std::string unfit = sageattn::cuda_backend::output_tma_unfit(tma.out, c.kernel.layout);
  ASSERT_EQ(unfit.empty(), c.tma) << "the case does not exercise the path it names: " << unfit;
  for (const at::Tensor& out : {tma.out, threads.out}) {
    ASSERT_EQ((~at::isfinite(out)).sum().item<int64_t>(), 0)
        << "NaN/Inf in the output: unwritten (poisoned) elements";
  }
  // Bits, not values: -0 and +0 differ, and so would any other rounding.
  EXPECT_EQ(bit_difference(threads.out, tma.out), "") << "output";
  EXPECT_EQ(bit_difference(threads.lse, tma.lse), "") << "LSE";
}

// The eligibility rule alone, on CPU tensors (it reads only the address and the strides): rows
// of 16-byte multiples in both layouts fit; a 200-byte row, or a base off 16 bytes, does not.
TEST(WgmmaOutputMap, FitsExactlyTheOutputsTmaCanAddress) {
  if (!sageattn::cuda_backend::compiled()) GTEST_SKIP() << "this build has no CUDA kernels";
  using sageattn::cuda_backend::output_tma_unfit;
  const auto bf16 = at::TensorOptions().dtype(at::kBFloat16);
  EXPECT_EQ(output_tma_unfit(at::empty({2, 3, 75, 128}, bf16), Layout::kHND), "");
  EXPECT_EQ(output_tma_unfit(at::empty({2, 75, 3, 72}, bf16.dtype(at::kHalf)), Layout::kNHD), "");
  const std::string odd_row = output_tma_unfit(at::empty({1, 2, 75, 100}, bf16), Layout::kHND);
  EXPECT_NE(odd_row.find("token stride (100 elements)"), std::string::npos) << odd_row;
  EXPECT_NE(output_tma_unfit(at::empty({1, 75, 2, 36}, bf16), Layout::kNHD), "");
  // One element in: the base is 2 bytes off the allocation's alignment.
  const at::Tensor shifted =
      at::empty({2 * 75 * 64 + 1}, bf16).narrow(0, 1, 2 * 75 * 64).view({1, 2, 75, 64});
  const std::string misaligned = output_tma_unfit(shifted, Layout::kHND);
  EXPECT_NE(misaligned.find("16-byte aligned"), std::string::npos) << misaligned;
}

INSTANTIATE_TEST_SUITE_P(Kernel, WgmmaOutputStore, ::testing::ValuesIn(output_store_cases()),
                         [](const ::testing::TestParamInfo<OutputStoreCase>& info) {
                           return info.param.name();
                         });

}  // namespace
}  // namespace sagegen::kernel_tests
