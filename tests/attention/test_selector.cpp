// The selector on the CPU: every arch is given as data (DeviceFacts), so the routes, kernel
// plans and reasons of sm_80, sm_89 and sm_90 are checked on a machine without a GPU.
#include <gtest/gtest.h>

#include <string>

#include "selector.h"

namespace sageattn {
namespace {

DeviceFacts gpu(int arch) {
  DeviceFacts facts;
  facts.arch = arch;
  return facts;
}

Problem cuda_problem(int64_t head_dim, int64_t len = 4096, bool causal = false) {
  Problem p;
  p.batch = 1;
  p.heads_q = p.heads_kv = 8;
  p.len_q = p.len_k = len;
  p.head_dim = head_dim;
  p.dtype = at::kBFloat16;
  p.device = c10::Device(c10::kCUDA, 0);
  p.causal = causal;
  return p;
}

AttentionOptions ask(Variant variant, Engine engine = Engine::kKernel,
                     KernelFamily family = KernelFamily::kAuto) {
  AttentionOptions o;
  o.variant = variant;
  o.engine = engine;
  o.kernel_family = family;
  return o;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const auto& line : lines) all += line + "\n";
  return all;
}

TEST(Selector, Sm89RunsEveryQuantizedVariantOnMmaWithPaddedHeadDims) {
  for (const Variant v : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
    for (const auto& [hd, padded] : {std::pair{64, 64}, {96, 128}, {128, 128}}) {
      const Selection s = select_route(cuda_problem(hd), ask(v), gpu(89));
      ASSERT_EQ(s.route, Route::kCudaKernel) << to_string(v) << " hd" << hd << ": " << s.reason;
      EXPECT_EQ(s.variant, v);
      EXPECT_EQ(s.plan.family, KernelFamily::kMma);
      EXPECT_EQ(s.plan.padded_dim, padded);
      EXPECT_EQ(s.plan.numerics.tiles.block_k, kMmaTiles.block_k);
      EXPECT_TRUE(s.fallback.empty()) << s.fallback;
      EXPECT_TRUE(contains(joined(s.rejected), "wgmma needs sm_90; device 0 is sm_89"))
          << joined(s.rejected);
    }
  }
}

TEST(Selector, Sm80RunsSage1AndRefusesTheFp8Variants) {
  EXPECT_EQ(select_route(cuda_problem(128), ask(Variant::kSage1), gpu(80)).route,
            Route::kCudaKernel);
  for (const Variant v : {Variant::kSage2Int8, Variant::kSage2Int4}) {
    for (const Engine engine : {Engine::kKernel, Engine::kAuto}) {
      const Selection s = select_route(cuda_problem(128), ask(v, engine), gpu(80));
      EXPECT_EQ(s.route, Route::kNone) << to_string(v);
      EXPECT_TRUE(contains(s.reason, "needs sm_89 or newer")) << s.reason;
      EXPECT_TRUE(contains(s.reason, "device 0 is sm_80")) << s.reason;
    }
  }
  const Selection old = select_route(cuda_problem(64), ask(Variant::kSage1), gpu(75));
  EXPECT_EQ(old.route, Route::kNone);
  EXPECT_TRUE(contains(old.reason, "sage1 needs sm_80 or newer")) << old.reason;
}

// Causal grids of the wgmma kernel put Q's padding rows first (tiles.h causal_q_lead_rows); the
// non-causal ones and the mma kernels keep it last.
TEST(Selector, CausalWgmmaPlansPutThePaddingFirst) {
  const Selection causal =
      select_route(cuda_problem(128, 16384, true), ask(Variant::kSage2Int8), gpu(90));
  ASSERT_EQ(causal.route, Route::kCudaKernel) << causal.reason;
  EXPECT_EQ(causal.plan.numerics.q_lead_rows, 128);
  EXPECT_TRUE(contains(causal.describe(), ", 128 padding rows before Q")) << causal.describe();
  const auto lead = [](int64_t hd, int64_t len, bool causal, Variant v, int arch) {
    return select_route(cuda_problem(hd, len, causal), ask(v), gpu(arch)).plan.numerics.q_lead_rows;
  };
  EXPECT_EQ(lead(64, 16000, true, Variant::kSage2Int8, 90), 128);  // 256-row tiles
  // Padding of less than one consumer's 64 rows stays last.
  EXPECT_EQ(lead(64, 1000, true, Variant::kSage2Int8, 90), 0);
  EXPECT_EQ(lead(128, 16384, false, Variant::kSage2Int8, 90), 0);
  EXPECT_EQ(lead(128, 1000, true, Variant::kSage2Int8, 89), 0);  // mma.sync kernels
  EXPECT_EQ(lead(128, 1000, true, Variant::kSage1, 90), 0);
}

TEST(Selector, Sm90RunsSage2Int8OnWgmmaAndTheOthersOnMma) {
  const Selection int8 = select_route(cuda_problem(128), ask(Variant::kSage2Int8), gpu(90));
  ASSERT_EQ(int8.route, Route::kCudaKernel) << int8.reason;
  EXPECT_EQ(int8.plan.family, KernelFamily::kWgmma);
  EXPECT_EQ(int8.plan.numerics.tiles.block_q, kWgmmaTiles.block_q);
  EXPECT_EQ(int8.plan.numerics.pv_accumulation, PvAccumulation::kWgmmaTruncating);
  EXPECT_EQ(int8.describe(), "sage2-8b on cuda-kernel (wgmma, hd 128, tiles 192x128)");
  // hd64 (and narrower, padded to it) runs four consumer warpgroups: 256-row tiles.
  for (const int64_t hd : {64, 40}) {
    const Selection narrow = select_route(cuda_problem(hd), ask(Variant::kSage2Int8), gpu(90));
    ASSERT_EQ(narrow.route, Route::kCudaKernel) << narrow.reason;
    EXPECT_EQ(narrow.plan.numerics.tiles.block_q, kWgmmaTiles4.block_q) << "hd" << hd;
    EXPECT_EQ(narrow.describe(), "sage2-8b on cuda-kernel (wgmma, hd 64, tiles 256x128)");
  }
  for (const Variant v : {Variant::kSage2Int4, Variant::kSage1}) {
    const Selection s = select_route(cuda_problem(64), ask(v), gpu(90));
    ASSERT_EQ(s.route, Route::kCudaKernel) << to_string(v) << ": " << s.reason;
    EXPECT_EQ(s.plan.family, KernelFamily::kMma);
    EXPECT_EQ(s.plan.numerics.p_scale, PScale::kTimes448);
    EXPECT_TRUE(contains(joined(s.rejected), "the wgmma kernel runs sage2-8b only"));
  }
}

TEST(Selector, KernelFamilyRequestIsAnInputOfTheSelector) {
  const Problem p = cuda_problem(128);
  const Selection mma =
      select_route(p, ask(Variant::kSage2Int8, Engine::kKernel, KernelFamily::kMma), gpu(90));
  EXPECT_EQ(mma.plan.family, KernelFamily::kMma);
  EXPECT_EQ(mma.plan.numerics.tiles.block_k, kMmaTiles.block_k);
  const Selection two =
      select_route(p, ask(Variant::kSage2Int8, Engine::kKernel, KernelFamily::kWgmma2), gpu(90));
  EXPECT_EQ(two.plan.family, KernelFamily::kWgmma);
  EXPECT_EQ(two.plan.numerics.tiles.block_q, kWgmmaTiles2.block_q);
  const Selection two64 = select_route(cuda_problem(64), ask(Variant::kSage2Int8, Engine::kKernel,
                                                           KernelFamily::kWgmma2), gpu(90));
  EXPECT_EQ(two64.plan.numerics.tiles.block_q, kWgmmaTiles2.block_q) << "wgmma2 pins two at hd64";
  // A family that cannot run the request is refused, not replaced.
  const Selection sage1 =
      select_route(p, ask(Variant::kSage1, Engine::kKernel, KernelFamily::kWgmma), gpu(90));
  EXPECT_EQ(sage1.route, Route::kNone);
  EXPECT_TRUE(contains(sage1.reason, "kernel family wgmma: the wgmma kernel runs sage2-8b only"))
      << sage1.reason;
  const Selection ada =
      select_route(p, ask(Variant::kSage2Int8, Engine::kKernel, KernelFamily::kWgmma2), gpu(89));
  EXPECT_TRUE(contains(ada.reason, "kernel family wgmma2: wgmma needs sm_90")) << ada.reason;
}

TEST(Selector, HeadDimsAbove128RunSdpaForEngineAutoAndAreRefusedForEngineKernel) {
  for (const int arch : {89, 90}) {
    for (const int64_t hd : {160, 256}) {
      for (const Variant v : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
        const Selection refused = select_route(cuda_problem(hd), ask(v), gpu(arch));
        EXPECT_EQ(refused.route, Route::kNone);
        EXPECT_TRUE(contains(refused.reason, "head_dim " + std::to_string(hd) +
                                                 " has no CUDA kernel"))
            << refused.reason;
        const Selection sdpa = select_route(cuda_problem(hd), ask(v, Engine::kAuto), gpu(arch));
        EXPECT_EQ(sdpa.route, Route::kSdpa) << "never the CPU golden model on CUDA tensors";
        EXPECT_EQ(sdpa.variant, Variant::kFp16);
        EXPECT_EQ(sdpa.requested, v);
        EXPECT_TRUE(contains(sdpa.fallback, "running torch SDPA")) << sdpa.fallback;
        EXPECT_TRUE(contains(sdpa.fallback, "head_dim " + std::to_string(hd))) << sdpa.fallback;
      }
    }
  }
}

TEST(Selector, AutoFollowsTheMeasuredCrossoverOnSm90) {
  struct Case {
    int64_t head_dim, len;
    bool causal;
    Variant expected;
  };
  for (const Case c : {Case{128, 1000, false, Variant::kFp16},
                       Case{128, 3071, false, Variant::kFp16},
                       Case{128, 3072, false, Variant::kSage2Int8},
                       Case{128, 4608, false, Variant::kSage2Int8},
                       Case{128, 4607, true, Variant::kFp16},
                       Case{128, 4608, true, Variant::kSage2Int8},
                       Case{96, 20000, false, Variant::kSage2Int8},
                       Case{64, 3583, false, Variant::kFp16},
                       Case{64, 3584, false, Variant::kSage2Int8},
                       Case{64, 6143, true, Variant::kFp16},
                       Case{64, 6144, true, Variant::kSage2Int8}}) {
    const Selection s = select_route(cuda_problem(c.head_dim, c.len, c.causal),
                                     ask(Variant::kAuto, Engine::kAuto), gpu(90));
    EXPECT_EQ(s.variant, c.expected) << "hd" << c.head_dim << " L" << c.len << " causal "
                                     << c.causal << ": " << s.fallback;
    EXPECT_EQ(s.requested, Variant::kAuto);
    if (c.expected == Variant::kFp16) {
      EXPECT_EQ(s.route, Route::kSdpa);
      EXPECT_TRUE(contains(s.fallback, "torch SDPA is faster")) << s.fallback;
    } else {
      EXPECT_EQ(s.route, Route::kCudaKernel);
      EXPECT_EQ(s.plan.family, KernelFamily::kWgmma);
    }
  }
}

TEST(Selector, AutoWithoutMeasuredCrossoverRunsSage2Int8WhereItsKernelRuns) {
  const Selection ada = select_route(cuda_problem(128, 256), ask(Variant::kAuto, Engine::kAuto),
                                     gpu(89));
  EXPECT_EQ(ada.route, Route::kCudaKernel);
  EXPECT_EQ(ada.variant, Variant::kSage2Int8);
  const Selection ampere = select_route(cuda_problem(128, 65536),
                                        ask(Variant::kAuto, Engine::kAuto), gpu(80));
  EXPECT_EQ(ampere.route, Route::kSdpa);
  EXPECT_EQ(ampere.variant, Variant::kFp16);
  EXPECT_TRUE(contains(ampere.fallback, "sage2-8b needs sm_89")) << ampere.fallback;
  const Selection wide = select_route(cuda_problem(256, 65536),
                                      ask(Variant::kAuto, Engine::kAuto), gpu(90));
  EXPECT_EQ(wide.route, Route::kSdpa);
  EXPECT_TRUE(contains(wide.fallback, "head_dim 256")) << wide.fallback;
}

TEST(Selector, CpuTensorsRunTheGoldenModelOrSdpaAndRefuseEngineKernel) {
  Problem p = cuda_problem(128);
  p.device = c10::Device(c10::kCPU);
  for (const Variant v : {Variant::kSage2Int8, Variant::kSage2Int4, Variant::kSage1}) {
    const Selection s = select_route(p, ask(v, Engine::kAuto), DeviceFacts{});
    EXPECT_EQ(s.route, Route::kGolden) << to_string(v);
    EXPECT_EQ(s.variant, v);
  }
  EXPECT_EQ(select_route(p, ask(Variant::kFp16, Engine::kAuto), DeviceFacts{}).route,
            Route::kSdpa);
  const Selection autov = select_route(p, ask(Variant::kAuto, Engine::kAuto), DeviceFacts{});
  EXPECT_EQ(autov.route, Route::kSdpa);
  EXPECT_EQ(autov.variant, Variant::kFp16);
  const Selection kernel = select_route(p, ask(Variant::kSage2Int8), DeviceFacts{});
  EXPECT_EQ(kernel.route, Route::kNone);
  EXPECT_TRUE(contains(kernel.reason, "engine kernel needs CUDA tensors, but q is on cpu"))
      << kernel.reason;
}

TEST(Selector, EngineGoldenRunsTheGoldenModelOnEveryDevice) {
  const Selection s =
      select_route(cuda_problem(256), ask(Variant::kSage2Int4, Engine::kGolden), gpu(90));
  EXPECT_EQ(s.route, Route::kGolden);
  EXPECT_EQ(s.variant, Variant::kSage2Int4);
}

TEST(Selector, MissingKernelImagesAndBuildsWithoutKernelsAreNamed) {
  DeviceFacts no_90a = gpu(90);
  no_90a.missing_images[{KernelFamily::kWgmma, Variant::kSage2Int8, 128}] = "no kernel image";
  const Selection mma = select_route(cuda_problem(128), ask(Variant::kSage2Int8), no_90a);
  EXPECT_EQ(mma.route, Route::kCudaKernel);
  EXPECT_EQ(mma.plan.family, KernelFamily::kMma);
  EXPECT_TRUE(contains(joined(mma.rejected), "no sm_90a image of the wgmma kernel"))
      << joined(mma.rejected);

  DeviceFacts no_89 = gpu(89);
  no_89.missing_images[{KernelFamily::kMma, Variant::kSage1, 64}] = "no kernel image";
  const Selection sage1 = select_route(cuda_problem(48), ask(Variant::kSage1), no_89);
  EXPECT_EQ(sage1.route, Route::kNone);
  EXPECT_TRUE(contains(sage1.reason, "sage1 has no kernel image for sm_89")) << sage1.reason;

  DeviceFacts stub = gpu(0);
  stub.no_kernels = "this libsageattn has no CUDA kernels";
  const Selection none = select_route(cuda_problem(128), ask(Variant::kSage2Int8), stub);
  EXPECT_EQ(none.route, Route::kNone);
  EXPECT_TRUE(contains(none.reason, "variant sage2-8b on cuda:0: this libsageattn has no CUDA"))
      << none.reason;
}

TEST(Selector, Fp32InputsHaveNoKernel) {
  Problem p = cuda_problem(128);
  p.dtype = at::kFloat;
  const Selection s = select_route(p, ask(Variant::kSage2Int8), gpu(90));
  EXPECT_EQ(s.route, Route::kNone);
  EXPECT_TRUE(contains(s.reason, "dtype Float: the CUDA kernels take Half or BFloat16")) << s.reason;
}

}  // namespace
}  // namespace sageattn
