// The calibrator on the CPU with the golden-model variants and a tiny random-weight model: the
// pipeline's attention observer, the on-device error metric, the measurement, the paper and
// ladder choices, the written table, the costs files and the CSV.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "common/files.h"
#include "common/temp_dir.h"
#include "sageattn/metrics.h"
#include "sageattn/variants.h"
#include "sagegen/calibrate/arch_costs.h"
#include "sagegen/calibrate/attention_error.h"
#include "sagegen/calibrate/calibrator.h"
#include "sagegen/calibrate/choose.h"
#include "sagegen/calibrate/heatmap.h"
#include "sagegen/calibrate/metrics_csv.h"
#include "sagegen/calibrate/table_from_decisions.h"
#include "sagegen/errors.h"
#include "sagegen/io/canvas.h"
#include "sagegen/pipeline.h"
#include "table_device_check.h"

namespace sagegen::calibrate {
namespace {

namespace fs = std::filesystem;
using sageattn::Variant;

const std::string kModel = SAGEGEN_SOURCE_DIR "/tests/app/data/tiny-random.yaml";  // 2 blocks
const std::string kCosts = SAGEGEN_SOURCE_DIR "/configs/costs/";
constexpr int kLayers = 4;  // 2 blocks: self 0, 2; cross 1, 3
constexpr int kSteps = 3;

LoadOptions tiny_model() {
  LoadOptions options;
  options.model = kModel;
  options.device = DeviceChoice::kCpu;
  return options;
}

GenerateRequest tiny_request() {
  GenerateRequest r;
  r.width = 32;
  r.height = 32;
  r.steps = kSteps;
  return r;
}

CalibrationOptions tiny_options() {
  CalibrationOptions o;
  o.prompts = {"a red circle above a square"};
  o.seeds = {3, 4};
  o.sampling.steps = kSteps;
  o.sampling.width = 32;
  o.sampling.height = 32;
  return o;
}

// One measurement shared by the tests that only read it (the golden model is the slow part).
class Calibration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pipeline_ = Pipeline::load(tiny_model()).release();
    measurement_ = new Measurement(measure(*pipeline_, tiny_options()));
  }
  static void TearDownTestSuite() {
    delete measurement_;
    delete pipeline_;
  }
  static const MetricGrid& grid() { return measurement_->grid; }

  static Pipeline* pipeline_;
  static Measurement* measurement_;
};
Pipeline* Calibration::pipeline_ = nullptr;
Measurement* Calibration::measurement_ = nullptr;

// ---- the observer hook -------------------------------------------------------------------

TEST(PipelineObserver, SeesEveryLayerAndStepAndCanBeRemoved) {
  auto pipeline = Pipeline::load(tiny_model());
  ASSERT_EQ(pipeline->attention_layers(), kLayers);
  std::set<std::pair<int, int>> seen;
  int text_encoder_calls = 0;
  pipeline->set_attention_observer([&](const AttentionCall& call) {
    if (call.step < 0) {
      ++text_encoder_calls;
      EXPECT_GE(call.layer, kLayers);  // the text encoder's ids follow the DiT's
      return;
    }
    EXPECT_EQ(call.variant, Variant::kFp16);
    EXPECT_EQ(call.out.sizes(), call.q.sizes());
    seen.insert({call.layer, call.step});
  });
  GenerateRequest r = tiny_request();
  r.prompt = "a green cross";
  r.attention = Variant::kFp16;
  pipeline->generate(r);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kLayers * kSteps));
  for (int layer = 0; layer < kLayers; ++layer) {
    for (int step = 0; step < kSteps; ++step) EXPECT_TRUE(seen.count({layer, step})) << layer << "," << step;
  }
  EXPECT_GT(text_encoder_calls, 0);

  pipeline->set_attention_observer({});
  seen.clear();
  pipeline->generate(r);
  EXPECT_TRUE(seen.empty());
}

// ---- the per-call metric -----------------------------------------------------------------

TEST(AttentionError, AgreesWithSageattnCompare) {
  const at::Tensor reference = at::randn({2, 40, 3, 64});
  const at::Tensor actual = reference + 0.05 * at::randn({2, 40, 3, 64});
  const at::Tensor e = attention_error(actual, reference);
  ASSERT_EQ(e.scalar_type(), at::kDouble);
  ASSERT_EQ(e.numel(), 3);
  const sageattn::ErrorMetrics m = sageattn::compare(actual, reference);
  EXPECT_NEAR(e[kCos].item<double>(), m.cos_sim, 1e-6);
  EXPECT_NEAR(e[kRelL1].item<double>(), m.rel_l1, 1e-6);
  EXPECT_NEAR(e[kCosL1].item<double>(), m.cos_l1, 1e-6);
  EXPECT_LT(e[kCosL1].item<double>(), 1.0);
}

TEST(AttentionError, EdgeCasesMatchTheLibrary) {
  const at::Tensor zero = at::zeros({4, 8});
  const at::Tensor same = attention_error(zero, zero);
  EXPECT_EQ(same[kCos].item<double>(), 1.0);
  EXPECT_EQ(same[kRelL1].item<double>(), 0.0);
  EXPECT_TRUE(std::isinf(attention_error(at::ones({4, 8}), zero)[kRelL1].item<double>()));
  at::Tensor poisoned = at::ones({4, 8});
  poisoned[1][2] = std::nan("");
  EXPECT_TRUE(std::isnan(attention_error(poisoned, at::ones({4, 8}))[kCosL1].item<double>()));
  EXPECT_THROW(attention_error(at::ones({4, 8}), at::ones({8, 4})), c10::Error);
}

// ---- the measurement ---------------------------------------------------------------------

TEST_F(Calibration, EveryCellEveryVariantMeasuredOncePerRun) {
  EXPECT_EQ(measurement_->runs, 2);
  EXPECT_EQ(measurement_->calls, 2 * kLayers * kSteps);
  EXPECT_TRUE(measurement_->unavailable.empty());
  EXPECT_EQ(grid().head_dim, 64);
  for (int layer = 0; layer < kLayers; ++layer) {
    for (int step = 0; step < kSteps; ++step) {
      for (Variant v : grid().variants()) {
        const VariantStats& s = grid().at(layer, step, v);
        EXPECT_EQ(s.samples, 2);
        for (double x : {s.cos_mean, s.metric_mean, s.cos_worst, s.metric_worst}) {
          EXPECT_GT(x, 0.0);
          EXPECT_LE(x, 1.0 + 1e-12);
        }
        EXPECT_LE(s.metric_worst, s.metric_mean + 1e-12);
        EXPECT_LE(s.cos_worst, s.cos_mean + 1e-12);
        EXPECT_GE(s.rel_l1_worst, s.rel_l1_mean - 1e-12);
        EXPECT_GE(s.rel_l1_mean, 0.0);
      }
    }
  }
}

TEST_F(Calibration, MorePreciseVariantsScoreHigherOnAverage) {
  double sum4 = 0, sum8 = 0, sum1 = 0;
  for (int layer = 0; layer < kLayers; ++layer) {
    for (int step = 0; step < kSteps; ++step) {
      sum4 += grid().at(layer, step, Variant::kSage2Int4).metric_mean;
      sum8 += grid().at(layer, step, Variant::kSage2Int8).metric_mean;
      sum1 += grid().at(layer, step, Variant::kSage1).metric_mean;
    }
  }
  EXPECT_GE(sum1, sum8);
  EXPECT_GT(sum8, sum4);
}

TEST_F(Calibration, ObserverIsRemovedAfterMeasuring) {
  int calls = 0;
  GenerateRequest r = tiny_request();
  r.prompt = "a blue ring";
  r.attention = Variant::kFp16;
  r.steps = 1;
  // measure() installed and removed its own observer; a new one sees only its own run.
  pipeline_->set_attention_observer([&](const AttentionCall&) { ++calls; });
  pipeline_->generate(r);
  pipeline_->set_attention_observer({});
  EXPECT_GT(calls, 0);
}

TEST(Measure, NoCandidateThatRunsIsAnError) {
  auto pipeline = Pipeline::load(tiny_model());
  CalibrationOptions options = tiny_options();
  options.seeds = {1};
  options.sampling.steps = 1;
  options.engine = sageattn::Engine::kKernel;  // CPU tensors: no kernel runs them
  try {
    measure(*pipeline, options);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("calibrate: no candidate variant runs on cpu; sage2-8b: "
                                         "engine kernel needs CUDA tensors"),
              std::string::npos)
        << e.what();
  }
  // With an engine that runs, one candidate is enough.
  options.engine = sageattn::Engine::kAuto;
  options.candidates = {Variant::kSage2Int8};
  const Measurement m = measure(*pipeline, options);
  EXPECT_TRUE(m.unavailable.empty());
  EXPECT_EQ(m.grid.at(0, 0, Variant::kSage2Int8).samples, 1);
}

// ---- paper mode --------------------------------------------------------------------------

TEST_F(Calibration, PaperSendsTheWorstRatioToEightBit) {
  const int pairs = kLayers * kSteps;
  for (double ratio : {0.3, 0.5, 1.0, 0.01}) {
    const Decisions d = choose_paper(grid(), ratio);
    const int expected = static_cast<int>(std::lround(ratio * pairs));
    EXPECT_EQ(d.count(Variant::kSage2Int8), expected) << ratio;
    EXPECT_EQ(d.count(Variant::kSage2Int4), pairs - expected) << ratio;
    double worst_kept_4bit = 2.0, best_sent_8bit = -1.0;
    for (int layer = 0; layer < kLayers; ++layer) {
      for (int step = 0; step < kSteps; ++step) {
        const double m = grid().at(layer, step, Variant::kSage2Int4).metric_mean;
        EXPECT_EQ(d.at(layer, step).metric, m);
        if (d.at(layer, step).variant == Variant::kSage2Int8) {
          best_sent_8bit = std::max(best_sent_8bit, m);
        } else {
          worst_kept_4bit = std::min(worst_kept_4bit, m);
        }
      }
    }
    EXPECT_LE(best_sent_8bit, worst_kept_4bit) << ratio;
  }
  EXPECT_THROW(choose_paper(grid(), 0.0), std::invalid_argument);
  EXPECT_THROW(choose_paper(grid(), 1.5), std::invalid_argument);
}

TEST(PaperMode, RanksByTheFourBitMetricAndNanIsWorst) {
  MetricGrid grid(2, 2, {Variant::kSage2Int4, Variant::kSage2Int8});
  const double four[2][2] = {{0.90, 0.70}, {std::nan(""), 0.80}};
  for (int l = 0; l < 2; ++l) {
    for (int s = 0; s < 2; ++s) {
      grid.at(l, s, Variant::kSage2Int4) = VariantStats{1, 0.9, 0.1, four[l][s], 0.9, 0.1, four[l][s]};
      grid.at(l, s, Variant::kSage2Int8) = VariantStats{1, 0.99, 0.01, 0.98, 0.99, 0.01, 0.98};
    }
  }
  const Decisions d = choose_paper(grid, 0.5);  // 2 of 4: the NaN one and 0.70
  EXPECT_EQ(d.at(1, 0).variant, Variant::kSage2Int8);
  EXPECT_EQ(d.at(0, 1).variant, Variant::kSage2Int8);
  EXPECT_EQ(d.at(0, 0).variant, Variant::kSage2Int4);
  EXPECT_EQ(d.at(1, 1).variant, Variant::kSage2Int4);
  EXPECT_EQ(d.at(1, 0).reason, Reason::kRankedWorst);
}

// ---- ladder mode -------------------------------------------------------------------------

ArchCosts costs_file(const fs::path& dir, const std::string& text) {
  const fs::path path = dir / "costs.yaml";
  sagegen::testing::write_bytes(path, text);
  return load_arch_costs(path.string());
}

TEST_F(Calibration, LadderOnSm90NeverPicksFourBit) {
  const ArchCosts sm90 = load_arch_costs(kCosts + "sm90.yaml");
  EXPECT_EQ(sm90.arch, "sm90");
  for (double floor : {0.0, 0.5, 0.9, 0.99, 1.0}) {
    const Decisions d = choose_ladder(grid(), floor, sm90);
    EXPECT_EQ(d.count(Variant::kSage2Int4), 0) << floor;
    EXPECT_EQ(d.observed(), kLayers * kSteps);
  }
}

TEST_F(Calibration, LadderPicksTheCheapestVariantMeetingTheFloor) {
  sagegen::testing::TempDir dir;
  // An arch where every quantized variant is cheaper than fp16, 4-bit cheapest (like sm_89).
  const ArchCosts costs = costs_file(dir.path(), R"(arch: sm89
measured: false
source: test
costs:
  64: {fp16: 1.0, sage1: 0.5, sage2-8b: 0.4, sage2-4b: 0.3}
)");
  // Floor 0: the cheapest everywhere. Floor 1: nothing quantized is exact, so fp16.
  EXPECT_EQ(choose_ladder(grid(), 0.0, costs).count(Variant::kSage2Int4), kLayers * kSteps);
  const Decisions exact = choose_ladder(grid(), 1.0, costs);
  EXPECT_EQ(exact.count(Variant::kFp16), kLayers * kSteps);
  EXPECT_EQ(exact.at(0, 0).reason, Reason::kBelowFloor);
  // A floor between the 4-bit and 8-bit figures: each cell gets the cheapest rung that meets
  // it, checked against a plain walk over the measured figures.
  const double floor = grid().at(1, 1, Variant::kSage2Int8).metric_worst - 1e-9;
  const Decisions d = choose_ladder(grid(), floor, costs);
  for (int layer = 0; layer < kLayers; ++layer) {
    for (int step = 0; step < kSteps; ++step) {
      Variant expected = Variant::kFp16;
      for (Variant v : {Variant::kSage2Int4, Variant::kSage2Int8, Variant::kSage1}) {
        if (grid().at(layer, step, v).metric_worst >= floor) {
          expected = v;
          break;
        }
      }
      EXPECT_EQ(d.at(layer, step).variant, expected) << layer << "," << step;
      if (expected != Variant::kFp16) {
        EXPECT_EQ(d.at(layer, step).metric, grid().at(layer, step, expected).metric_worst);
      }
    }
  }
  EXPECT_EQ(d.at(1, 1).variant == Variant::kSage2Int8 || d.at(1, 1).variant == Variant::kSage2Int4,
            true);
  EXPECT_THROW(choose_ladder(grid(), -0.1, costs), std::invalid_argument);
  EXPECT_THROW(choose_ladder(grid(), 1.1, costs), std::invalid_argument);
}

TEST_F(Calibration, LadderSkipsVariantsTheArchDoesNotRun) {
  const ArchCosts sm80 = load_arch_costs(kCosts + "sm80.yaml");  // fp16 and sage1 only
  const Decisions d = choose_ladder(grid(), 0.0, sm80);
  EXPECT_EQ(d.count(Variant::kSage1), kLayers * kSteps);
}

// ---- the written table -------------------------------------------------------------------

void expect_table_matches(const sageattn::PrecisionTable& table, const Decisions& d) {
  const std::string yaml = table.to_yaml("header line one\nheader line two");
  const auto loaded = sageattn::PrecisionTable::load_string(yaml, "calibrated.yaml");
  const sageattn::ResolvedTable resolved = loaded.resolve("cli-test-tiny", kLayers, kSteps);
  for (int layer = 0; layer < kLayers; ++layer) {
    for (int step = 0; step < kSteps; ++step) {
      EXPECT_EQ(resolved.variant_for(layer, step), d.at(layer, step).variant)
          << layer << "," << step << "\n" << yaml;
    }
  }
  EXPECT_TRUE(resolved.warnings().empty()) << yaml;
  // Open step ranges: the table also fits longer runs.
  EXPECT_NO_THROW(loaded.resolve("cli-test-tiny", kLayers, kSteps + 5));
  for (const auto& rule : loaded.rules()) EXPECT_FALSE(rule.comment.empty()) << yaml;
  EXPECT_EQ(yaml.rfind("# header line one\n# header line two\n", 0), 0u) << yaml;
}

TEST_F(Calibration, WrittenTablesLoadBackToTheSameDecisions) {
  for (double ratio : {0.3, 0.7, 1.0}) {
    const Decisions d = choose_paper(grid(), ratio);
    const auto table = table_from_decisions(d, "cli-test-tiny");
    expect_table_matches(table, d);
    // Compact: never more rules than runs of steps per layer.
    EXPECT_LE(table.rules().size(), static_cast<std::size_t>(kLayers * kSteps));
  }
  const Decisions ladder = choose_ladder(grid(), 0.9, load_arch_costs(kCosts + "sm89.yaml"));
  expect_table_matches(table_from_decisions(ladder, "cli-test-tiny"), ladder);
}

TEST(TableFromDecisions, MergesRunsAndLayersIntoFewRules) {
  Decisions d;
  d.layers = 4;
  d.steps = 6;
  d.cells.resize(24);
  for (int layer = 0; layer < 4; ++layer) {
    for (int step = 0; step < 6; ++step) {
      // Steps 0-1 of every layer in 8-bit, the rest 4-bit; layer 3's last steps in fp16.
      CellDecision& c = d.at(layer, step);
      c.reason = step < 2 ? Reason::kRankedWorst : Reason::kRankedBetter;
      c.variant = step < 2 ? Variant::kSage2Int8 : Variant::kSage2Int4;
      c.metric = 0.9 + 0.01 * step;
      if (layer == 3 && step >= 4) {
        c.variant = Variant::kFp16;
        c.reason = Reason::kBelowFloor;
      }
    }
  }
  const auto table = table_from_decisions(d, "m");
  EXPECT_EQ(table.default_variant(), Variant::kSage2Int4);
  ASSERT_EQ(table.rules().size(), 2u) << table.to_yaml();
  EXPECT_TRUE(table.rules()[0].layers.is_all());
  EXPECT_EQ(table.rules()[0].variant, Variant::kSage2Int8);
  EXPECT_EQ(table.rules()[0].comment, "4-bit CosSim*(1-L1) mean 0.9000-0.9100: among the worst ranked");
  EXPECT_EQ(table.rules()[1].variant, Variant::kFp16);
  EXPECT_FALSE(table.rules()[1].steps.spans().front().last.has_value());  // "4-": open
  // Layers by name: layer 3 is block 1's cross-attention.
  EXPECT_NE(table.to_yaml().find("{layers: blocks.1.attn2, steps: \"4-\", variant: fp16"),
            std::string::npos)
      << table.to_yaml();
}

TEST_F(Calibration, HeaderSaysHowTheTableWasMade) {
  ChoiceSettings settings;
  settings.mode = Mode::kLadder;
  settings.floor = 0.9;
  settings.costs = load_arch_costs(kCosts + "sm89.yaml");
  const Decisions d = decide(grid(), settings);
  const std::string header = table_header(tiny_options(), settings, *measurement_, d,
                                          "cli-test-tiny", "cpu", "2026-11-26 01:00 UTC");
  for (const char* needle : {"mode ladder, floor 0.9, arch sm89", "ESTIMATES", "1 prompts x 2 seeds (3, 4)",
                             "3 steps, 32x32", "2026-11-26 01:00 UTC", "a red circle above a square"}) {
    EXPECT_NE(header.find(needle), std::string::npos) << needle << "\n" << header;
  }
  settings.costs.reset();
  EXPECT_THROW(decide(grid(), settings), std::invalid_argument);
}

// ---- CSV -----------------------------------------------------------------------------------

TEST_F(Calibration, CsvHasOneRowPerLayerStepAndVariant) {
  const Decisions d = choose_paper(grid(), 0.3);
  const std::string csv = metrics_csv(grid(), d);
  const auto rows = std::count(csv.begin(), csv.end(), '\n');
  EXPECT_EQ(rows, 1 + kLayers * kSteps * 3);
  EXPECT_EQ(csv.rfind("layer,step,variant,samples,cos_mean,cos_worst,rel_l1_mean,rel_l1_worst,"
                      "metric_mean,metric_worst,chosen\n", 0), 0u);
  EXPECT_NE(csv.find("\n0,0,sage2-4b,2,"), std::string::npos) << csv;
  sagegen::testing::TempDir dir;
  write_metrics_csv(dir.path() / "m.csv", grid(), d);
  EXPECT_EQ(sagegen::testing::read_bytes(dir.path() / "m.csv"), csv);
}

// ---- heat-map ------------------------------------------------------------------------------

figures::Rgb pixel_at(const at::Tensor& image, int x, int y) {
  const auto p = image.accessor<std::uint8_t, 3>();
  return {p[y][x][0], p[y][x][1], p[y][x][2]};
}

TEST_F(Calibration, HeatmapColoursCellsByTheFourBitMetricAndMarksTheChoice) {
  const Decisions d = choose_paper(grid(), 0.3);
  const at::Tensor image = render_heatmap(grid(), d, "cli-test-tiny paper");
  ASSERT_EQ(image.dim(), 3);
  ASSERT_EQ(image.size(2), 3);
  const HeatmapGeometry g = heatmap_geometry(grid());
  EXPECT_GE(g.cell, 14);
  EXPECT_GT(image.size(0), g.top + kLayers * g.cell);
  EXPECT_GT(image.size(1), g.left + kSteps * g.cell);
  // The lowest and highest 4-bit metrics get the two ends of the colour map (sampled at a cell
  // corner, away from the letter); every cell is one of the map's colours there.
  std::pair<int, int> low{0, 0}, high{0, 0};
  const auto metric = [&](std::pair<int, int> c) {
    return grid().at(c.first, c.second, Variant::kSage2Int4).metric_mean;
  };
  for (int layer = 0; layer < kLayers; ++layer) {
    for (int step = 0; step < kSteps; ++step) {
      if (metric({layer, step}) < metric(low)) low = {layer, step};
      if (metric({layer, step}) > metric(high)) high = {layer, step};
    }
  }
  const auto corner = [&](std::pair<int, int> c) {
    return pixel_at(image, g.left + c.second * g.cell + 1, g.top + c.first * g.cell + 1);
  };
  EXPECT_EQ(corner(low), figures::colormap(0.0f));
  EXPECT_EQ(corner(high), figures::colormap(1.0f));
  // A letter is drawn inside every cell: some pixel differs from the corner's colour, and the
  // 8-bit and 4-bit cells' letters differ.
  const auto letter_pixels = [&](int layer, int step) {
    std::vector<bool> mask;
    const figures::Rgb background = corner({layer, step});
    for (int y = 0; y < g.cell; ++y) {
      for (int x = 0; x < g.cell; ++x) {
        mask.push_back(pixel_at(image, g.left + step * g.cell + x, g.top + layer * g.cell + y) != background);
      }
    }
    return mask;
  };
  std::vector<bool> eight, four;
  for (int layer = 0; layer < kLayers; ++layer) {
    for (int step = 0; step < kSteps; ++step) {
      const auto mask = letter_pixels(layer, step);
      EXPECT_GT(std::count(mask.begin(), mask.end(), true), 4) << layer << "," << step;
      (d.at(layer, step).variant == Variant::kSage2Int8 ? eight : four) = mask;
    }
  }
  EXPECT_NE(eight, four);
  sagegen::testing::TempDir dir;
  write_heatmap_png(dir.path() / "h.png", grid(), d, "title");
  EXPECT_TRUE(fs::exists(dir.path() / "h.png"));
}

// ---- costs files -------------------------------------------------------------------------

std::string costs_error(const fs::path& dir, const std::string& text) {
  try {
    costs_file(dir, text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ArchCostsFile, ShippedFilesLoadAndNearestHeadDimIsUsed) {
  for (const char* arch : {"sm80", "sm89", "sm90"}) {
    const ArchCosts costs = load_arch_costs(kCosts + arch + std::string(".yaml"));
    EXPECT_EQ(costs.arch, arch);
    EXPECT_EQ(costs.cost(Variant::kFp16, 64), 1.0);
  }
  const ArchCosts sm90 = load_arch_costs(kCosts + "sm90.yaml");
  EXPECT_TRUE(sm90.measured);
  // On the H100 4-bit QK is emulated: dearer than fp16 at every head dim, so the ladder (where
  // fp16 always qualifies) can never pick it there.
  for (const auto& [dim, by_variant] : sm90.costs) {
    EXPECT_GT(by_variant.at(Variant::kSage2Int4), by_variant.at(Variant::kFp16)) << dim;
    EXPECT_GT(by_variant.at(Variant::kSage2Int4), by_variant.at(Variant::kSage2Int8)) << dim;
  }
  EXPECT_EQ(sm90.cost(Variant::kSage1, 96), sm90.cost(Variant::kSage1, 128));  // tie: larger
  EXPECT_EQ(sm90.cost(Variant::kSage1, 32), sm90.cost(Variant::kSage1, 64));
  EXPECT_FALSE(load_arch_costs(kCosts + "sm80.yaml").cost(Variant::kSage2Int8, 64).has_value());
  EXPECT_EQ(normalize_arch("sm_90"), "sm90");
  EXPECT_EQ(normalize_arch("89"), "sm89");
  EXPECT_FALSE(normalize_arch("hopper").has_value());
  EXPECT_NE(find_costs_file("sm90").find("configs/costs/sm90.yaml"), std::string::npos);
  EXPECT_THROW(find_costs_file("sm42"), ConfigError);
}

// The shipped costs agree with where `auto` runs sage2-8b (sageattn/variants.h): at the length a
// file was measured at (or anywhere, on an arch without a measured crossover), sage2-8b is
// cheaper than fp16 exactly where auto prefers it; and a file lists only variants with a kernel
// on its arch.
TEST(ArchCostsFile, ShippedCostsAgreeWithAuto) {
  for (const int arch : {80, 89, 90}) {
    const ArchCosts costs = load_arch_costs(kCosts + arch_name(arch) + ".yaml");
    for (const auto& [dim, by_variant] : costs.costs) {
      for (const auto& [variant, cost] : by_variant) {
        EXPECT_LE(sageattn::variant_facts(variant).min_arch, arch)
            << costs.path << ": " << sageattn::to_string(variant);
      }
      const auto int8 = by_variant.find(Variant::kSage2Int8);
      if (int8 == by_variant.end()) {
        EXPECT_GT(sageattn::variant_facts(Variant::kSage2Int8).min_arch, arch) << costs.path;
        continue;
      }
      const bool measured_crossover = sageattn::auto_crossover(arch, dim, false) != nullptr;
      ASSERT_TRUE(costs.length > 0 || !measured_crossover)
          << costs.path << ": the arch has a measured auto crossover, so the file must say at "
          << "which length its costs were measured";
      const double len = costs.length > 0 ? costs.length : 1e9;
      const bool auto_int8 = sageattn::auto_prefers_sage2_int8(arch, dim, len, false);
      EXPECT_EQ(auto_int8, int8->second < by_variant.at(Variant::kFp16))
          << costs.path << " hd" << dim << ": sage2-8b costs " << int8->second
          << " x fp16, but auto " << (auto_int8 ? "prefers" : "does not prefer") << " it";
    }
  }
}

TEST(ArchCostsFile, AVariantWithoutAKernelOnTheArchIsRefused) {
  sagegen::testing::TempDir dir;
  const std::string path = (dir.path() / "costs.yaml").string();
  EXPECT_EQ(costs_error(dir.path(), "arch: sm80\nmeasured: false\nsource: x\ncosts:\n"
                                    "  64: {fp16: 1.0, sage2-8b: 0.5}\n"),
            path + ":5: costs.64.sage2-8b: has no kernel on sm80 (it needs sm_89: FP8 E4M3 "
                   "mma.sync for PV; the FP16-PV form for sm_80 is not implemented)");
}

TEST(ArchCostsFile, ErrorsNameTheFileLineAndKey) {
  sagegen::testing::TempDir dir;
  const std::string head = "arch: sm90\nmeasured: true\nsource: x\n";
  const std::string path = (dir.path() / "costs.yaml").string();
  EXPECT_EQ(costs_error(dir.path(), head + "costs:\n  64: {fp16: 1.0, sage3: 2}\n"),
            path + ":5: costs.64.sage3: unknown variant (one of: sage2-8b, sage2-4b, sage1, fp16)");
  EXPECT_EQ(costs_error(dir.path(), head + "costs:\n  64: {fp16: 1.0, sage1: -2}\n"),
            path + ":5: costs.64.sage1: expected a relative cost > 0");
  EXPECT_EQ(costs_error(dir.path(), head + "costs:\n  64: {sage1: 0.5}\n"),
            path + ":5: costs.64.fp16: missing (every head dim lists fp16, the ladder's fallback)");
  EXPECT_EQ(costs_error(dir.path(), head + "costs:\n  x64: {fp16: 1}\n"),
            path + ":5: costs.x64: expected a head dim (a positive integer)");
  EXPECT_EQ(costs_error(dir.path(), head + "speed: 3\ncosts:\n  64: {fp16: 1}\n"),
            path + ":4: speed: unknown key");
  EXPECT_EQ(costs_error(dir.path(), "arch: sm90\nsource: x\ncosts:\n  64: {fp16: 1}\n"),
            path + ":1: measured: missing required key");
  EXPECT_EQ(costs_error(dir.path(), ""), path + ": the costs file is empty (expected keys: arch, measured, source, costs)");
  EXPECT_THROW(load_arch_costs((dir.path() / "absent.yaml").string()), ConfigError);
}

// ---- a table naming a variant the device cannot run --------------------------------------

TEST(TableDeviceCheck, NamesTheRuleOfAVariantThatCannotRun) {
  const auto table = sageattn::PrecisionTable::load_string(R"(model: m
default: sage2-8b
rules:
  - {layers: all, steps: 0, variant: fp16}
  - {layers: [1, 3], steps: all, variant: sage2-4b}
)", "t.yaml");
  const auto only_sage2_8b = [](Variant v) {
    return v == Variant::kSage2Int8 ? std::string() : std::string("needs sm_89 or newer");
  };
  try {
    check_table_variants_run(table, "cuda:0", only_sage2_8b);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "t.yaml:5:5: rules[1].variant: sage2-4b cannot run on cuda:0: needs sm_89 or newer");
  }
  const auto no_eight_bit = [](Variant v) {
    return v == Variant::kSage2Int8 ? std::string("no kernel") : std::string();
  };
  const auto fp16_rules = sageattn::PrecisionTable::load_string(
      "model: m\ndefault: sage2-8b\nrules:\n  - {layers: all, steps: 0, variant: fp16}\n", "u.yaml");
  try {
    check_table_variants_run(fp16_rules, "cuda:0", no_eight_bit);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "u.yaml: default: sage2-8b cannot run on cuda:0: no kernel");
  }
  EXPECT_NO_THROW(check_table_variants_run(table, "cpu", [](Variant) { return std::string(); }));
}

}  // namespace
}  // namespace sagegen::calibrate
