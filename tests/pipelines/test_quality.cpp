// Image quality of the quantized attention variants against full precision from the same seed,
// on the built-in model (sagegen-tiny) over a fixed prompt set from the shapes world (issue 6).
// CPU: the golden model of each variant (the kernels' exact numerics) at small sizes (a few
// seconds per generation on 2 cores; docs/quality.md has the timings). GPU (skipped without
// one): the kernels at the model's full size, t2v included, with fp16 run twice for the
// run-to-run floor (GPU kernels are not bitwise deterministic). The figures are printed;
// docs/quality.md records them.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sagegen/eval/adherence.h"
#include "sagegen/eval/image_quality.h"
#include "sagegen/eval/prompt_parser.h"
#include "sagegen/pipeline.h"
#include "sagegen/world/shapes_world.h"

namespace sagegen {
namespace {

using sageattn::Variant;

// Issue 6's bounds for sage2-8b against fp16 (mean over the prompt set).
constexpr double kInt8MinPsnrDb = 30.0;
constexpr double kInt8MinSsim = 0.95;
// Issue 6's bounds for sage2-4b with a calibrated table.
constexpr double kCalibratedInt4MinPsnrDb = 26.0;
constexpr double kCalibratedInt4MinSsim = 0.90;
// Adherence (fraction of asked attributes found) is printed, not asserted, here: over the few
// prompts a CPU test affords, one attribute is worth 5 points or more, so issue 6's "at most 2
// points under fp16" is measured with `sagegen eval` over larger sets (docs/quality.md).
// The name of the calibrated-table entry in the figures.
constexpr const char* kCalibrated = "sage2-4b calibrated";

struct Figures {
  std::vector<double> psnr_db;
  std::vector<double> ssim;
  eval::AdherenceTally adherence;

  double mean_psnr() const { return mean(psnr_db); }
  double mean_ssim() const { return mean(ssim); }
  // Over every attribute every prompt asked for.
  double adherence_accuracy() const {
    int correct = 0, total = 0;
    for (int a = 0; a < eval::kAttributeCount; ++a) {
      correct += adherence.correct(static_cast<eval::Attribute>(a));
      total += adherence.total(static_cast<eval::Attribute>(a));
    }
    return total == 0 ? 0.0 : static_cast<double>(correct) / total;
  }
  static double mean(const std::vector<double>& values) {
    double sum = 0;
    for (double v : values) sum += v;
    return values.empty() ? NAN : sum / static_cast<double>(values.size());
  }
};

struct QualitySetup {
  std::string title;
  DeviceChoice device = DeviceChoice::kCpu;
  int size = 64;
  int frames = 1;
  int steps = 4;
  int prompts = 4;
  bool measure_floor = false;  // fp16 twice
  // A paper-mode table (sagegen calibrate) for this model, size and step count; empty: none.
  std::string calibrated_table;
};

const std::vector<Variant> kVariants = {Variant::kSage2Int8, Variant::kSage2Int4};

std::string model_path() { return std::string(SAGEGEN_SOURCE_DIR) + "/configs/models/sagegen-tiny.yaml"; }

// name -> figures against the fp16 reference; "fp16" holds the reference's adherence, and with
// measure_floor "fp16 again" holds the second fp16 run.
std::map<std::string, Figures> measure(const QualitySetup& setup) {
  world::WorldOptions world_options;
  world_options.size = std::max(setup.size, 32);  // the world's smallest scene; only captions are used
  world_options.frames = setup.frames;
  const auto prompts = world::evaluation_prompts(world::PromptSet::kSeen, world_options, setup.prompts);

  LoadOptions load;
  load.model = model_path();
  load.device = setup.device;
  GenerateRequest request;
  request.width = request.height = setup.size;
  request.frames = setup.frames;
  request.steps = setup.steps;
  auto pipeline = Pipeline::load(load);
  // The calibrated entry has a pipeline of its own, loaded with the table as its default.
  std::unique_ptr<Pipeline> calibrated;
  if (!setup.calibrated_table.empty()) {
    LoadOptions with_table = load;
    with_table.table = setup.calibrated_table;
    calibrated = Pipeline::load(with_table);
  }

  std::map<std::string, Figures> figures;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    GenerateRequest r = request;
    r.prompt = prompts[i].caption;
    r.seed = 1000 + static_cast<std::int64_t>(i);
    const eval::PromptSpec spec = eval::parse_prompt(r.prompt);
    r.attention = Variant::kFp16;
    const at::Tensor reference = pipeline->generate(r).video;
    figures["fp16"].adherence.add(eval::score_prompt(spec, reference));
    auto add = [&](const std::string& name, const at::Tensor& video) {
      const eval::ImageQuality q = eval::compare_images(video, reference);
      figures[name].psnr_db.push_back(q.psnr_db);
      figures[name].ssim.push_back(q.ssim);
      figures[name].adherence.add(eval::score_prompt(spec, video));
    };
    if (setup.measure_floor) add("fp16 again", pipeline->generate(r).video);
    for (const Variant variant : kVariants) {
      r.attention = variant;
      add(std::string(sageattn::to_string(variant)), pipeline->generate(r).video);
    }
    if (calibrated) {
      r.attention.reset();
      add(kCalibrated, calibrated->generate(r).video);
    }
  }
  return figures;
}

void report(const QualitySetup& setup, const std::map<std::string, Figures>& figures) {
  std::printf("quality, %s: sagegen-tiny %dx%dx%d, %d steps, %d prompts, vs fp16 from the same seed\n",
              setup.title.c_str(), setup.size, setup.size, setup.frames, setup.steps, setup.prompts);
  const auto floor = figures.find("fp16 again");
  for (const auto& [name, f] : figures) {
    if (name == "fp16") {
      std::printf("  %-19s adherence %.3f\n", name.c_str(), f.adherence_accuracy());
      continue;
    }
    std::printf("  %-19s PSNR %6.2f dB  SSIM %.4f  adherence %.3f", name.c_str(), f.mean_psnr(), f.mean_ssim(),
                f.adherence_accuracy());
    if (floor != figures.end() && name != "fp16 again") {
      std::printf("  (floor: PSNR %.2f dB, SSIM %.4f)", floor->second.mean_psnr(), floor->second.mean_ssim());
    }
    std::printf("\n");
  }
}

void check_int8_bounds(const std::map<std::string, Figures>& figures) {
  const Figures& int8 = figures.at("sage2-8b");
  EXPECT_GE(int8.mean_psnr(), kInt8MinPsnrDb);
  EXPECT_GE(int8.mean_ssim(), kInt8MinSsim);
  // 4-bit QK is reported, not bounded; it must still be a picture of the same noise.
  const Figures& int4 = figures.at("sage2-4b");
  EXPECT_TRUE(std::isfinite(int4.mean_psnr()));
  EXPECT_GT(int4.mean_ssim(), 0.5);
  const auto calibrated = figures.find(kCalibrated);
  if (calibrated == figures.end()) return;
  EXPECT_GE(calibrated->second.mean_psnr(), kCalibratedInt4MinPsnrDb);
  EXPECT_GE(calibrated->second.mean_ssim(), kCalibratedInt4MinSsim);
}

TEST(Quality, ImagesOnCpuWithTheGoldenModel) {
  // The shipped 4-bit table was calibrated for this model at 64x64 and 20 steps.
  const QualitySetup setup{"cpu golden, images", DeviceChoice::kCpu, 64, 1, 20, 6, false,
                           std::string(SAGEGEN_SOURCE_DIR) + "/configs/tables/tiny-4bit-calibrated.yaml"};
  const auto figures = measure(setup);
  report(setup, figures);
  check_int8_bounds(figures);
}

// 64x64x8: 2,048 tokens a clip, the t2v side of the same model. The golden model emulates the
// kernels element by element: one such step of a quantized variant is seconds on one core, so
// the clip gets few steps and one prompt here; the GPU case runs 20 steps and 4 clips.
TEST(Quality, VideoOnCpuWithTheGoldenModel) {
  const QualitySetup setup{"cpu golden, video", DeviceChoice::kCpu, 64, 8, 5, 1, false, ""};
  const auto figures = measure(setup);
  report(setup, figures);
  check_int8_bounds(figures);
}

// The kernels at full size: 64x64 images, 20 steps; and t2v at 64x64x8 (2,048 tokens).
TEST(Quality, KernelsOnGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (const QualitySetup& setup : {QualitySetup{"gpu kernels, images", DeviceChoice::kCuda, 64, 1, 20, 16, true, ""},
                                    QualitySetup{"gpu kernels, video", DeviceChoice::kCuda, 64, 8, 20, 4, true, ""}}) {
    const auto figures = measure(setup);
    report(setup, figures);
    check_int8_bounds(figures);
  }
}

}  // namespace
}  // namespace sagegen
