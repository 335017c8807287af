// The comparison library (sagegen/compare/compare.h) on the CPU with a tiny random-weight model:
// entries in request order, measured against the fp16 reference (a table in fp16 everywhere
// matches it, sage2-8b through the golden model does not), one progress call per entry, and bad
// entries refused by index before anything runs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/temp_dir.h"
#include "sagegen/compare/compare.h"
#include "sagegen/errors.h"
#include "sagegen/pipeline.h"

namespace sagegen::compare {
namespace {

namespace fs = std::filesystem;
using sageattn::Variant;
using testing::TempDir;
using testing::write_bytes;

const std::string kModel = SAGEGEN_SOURCE_DIR "/tests/app/data/tiny-random.yaml";  // cli-test-tiny
constexpr int kSteps = 2;

GenerateRequest tiny_request() {
  GenerateRequest r;
  r.prompt = "a red circle above a blue square";
  r.seed = 3;
  r.steps = kSteps;
  r.width = 32;
  r.height = 32;
  return r;
}

// What the progress callbacks saw.
struct ProgressLog {
  std::vector<EntryStart> starts;
  int steps = 0;

  CompareProgress callbacks() {
    CompareProgress p;
    p.entry_started = [this](const EntryStart& start) { starts.push_back(start); };
    p.step = [this](const StepProgress&) { ++steps; };
    return p;
  }
};

// One comparison shared by the tests that only read it (generations are the slow part):
// sage2-8b (the golden model on the CPU), then a table that runs fp16 everywhere.
class Comparison : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("sagegen-compare");
    table_path_ = (dir_->path() / "all-fp16.yaml").string();
    write_bytes(table_path_, "model: cli-test-tiny\ndefault: fp16\n");
    LoadOptions load;
    load.model = kModel;
    load.device = DeviceChoice::kCpu;
    pipeline_ = Pipeline::load(load).release();
    progress_ = new ProgressLog;
    CompareRequest request{
        tiny_request(),
        {EntrySpec::of_variant(Variant::kSage2Int8), EntrySpec::of_table(table_path_)}};
    run_ = new CompareRun(run_comparison(*pipeline_, request, progress_->callbacks()));
  }
  static void TearDownTestSuite() {
    delete run_;
    delete progress_;
    delete pipeline_;
    delete dir_;
  }

  static TempDir* dir_;
  static std::string table_path_;
  static Pipeline* pipeline_;
  static ProgressLog* progress_;
  static CompareRun* run_;
};

TempDir* Comparison::dir_ = nullptr;
std::string Comparison::table_path_;
Pipeline* Comparison::pipeline_ = nullptr;
ProgressLog* Comparison::progress_ = nullptr;
CompareRun* Comparison::run_ = nullptr;

TEST_F(Comparison, EntriesFollowTheReferenceInRequestOrder) {
  ASSERT_EQ(run_->entries.size(), 3u);
  EXPECT_EQ(run_->entries[0].kind, CompareEntry::Kind::kReference);
  EXPECT_EQ(run_->entries[0].label, "fp16 (reference)");
  EXPECT_EQ(run_->entries[1].kind, CompareEntry::Kind::kVariant);
  EXPECT_EQ(run_->entries[1].label, "sage2-8b");
  EXPECT_EQ(run_->entries[1].source, "sage2-8b");
  EXPECT_EQ(run_->entries[2].kind, CompareEntry::Kind::kTable);
  EXPECT_EQ(run_->entries[2].label, "all-fp16.yaml");
  EXPECT_EQ(run_->entries[2].source, table_path_);
  for (const CompareEntry& e : run_->entries) {
    EXPECT_EQ(e.video.sizes(), (std::vector<std::int64_t>{1, 32, 32, 3})) << e.label;
    EXPECT_GT(e.seconds_total, 0.0) << e.label;
    ASSERT_TRUE(e.adherence.has_value()) << e.label << ": the prompt follows the templates";
    EXPECT_GE(e.adherence->asked, 1) << e.label;
  }
  EXPECT_EQ(run_->seed, 3);
  EXPECT_EQ(run_->sampling.steps, kSteps);
  EXPECT_EQ(run_->model_name, "cli-test-tiny");
  EXPECT_EQ(run_->device, "cpu");
  EXPECT_TRUE(run_->random_weights);
}

TEST_F(Comparison, ATableInFp16EverywhereMatchesTheReference) {
  const CompareEntry& table = run_->entries[2];
  EXPECT_TRUE(std::isinf(table.quality.psnr_db) && table.quality.psnr_db > 0)
      << table.quality.psnr_db;
  EXPECT_DOUBLE_EQ(table.quality.ssim, 1.0);
  EXPECT_EQ(table.attention_calls.count("sage2-8b"), 0u);
}

TEST_F(Comparison, Sage2Int8ThroughTheGoldenModelMovesPixels) {
  const CompareEntry& sage = run_->entries[1];
  EXPECT_TRUE(std::isfinite(sage.quality.psnr_db)) << sage.quality.psnr_db;
  EXPECT_GT(sage.quality.psnr_db, 0.0);
  EXPECT_LT(sage.quality.ssim, 1.0);
  ASSERT_EQ(sage.attention_calls.count("sage2-8b"), 1u);
  EXPECT_GT(sage.attention_calls.at("sage2-8b"), 0);
  EXPECT_EQ(sage.attention_calls.count("sage2-4b"), 0u);
}

TEST_F(Comparison, ProgressStartsOncePerEntryWithItsLabel) {
  ASSERT_EQ(progress_->starts.size(), run_->entries.size());
  for (std::size_t i = 0; i < progress_->starts.size(); ++i) {
    const EntryStart& start = progress_->starts[i];
    EXPECT_EQ(start.index, static_cast<int>(i));
    EXPECT_EQ(start.total, static_cast<int>(run_->entries.size()));
    EXPECT_EQ(start.label, run_->entries[i].label);
    EXPECT_EQ(start.steps, kSteps);
  }
  EXPECT_EQ(progress_->steps, kSteps * static_cast<int>(run_->entries.size()));
}

// Each bad request fails before the reference runs: no entry starts.
class BadComparison : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LoadOptions load;
    load.model = kModel;
    load.device = DeviceChoice::kCpu;
    pipeline_ = Pipeline::load(load).release();
  }
  static void TearDownTestSuite() { delete pipeline_; }

  // The EntryError's what(), or a failure when none is thrown.
  std::string entry_error(const std::vector<EntrySpec>& entries, std::size_t expected_index) {
    ProgressLog progress;
    try {
      run_comparison(*pipeline_, {tiny_request(), entries}, progress.callbacks());
    } catch (const EntryError& e) {
      EXPECT_EQ(e.index(), expected_index) << e.what();
      EXPECT_TRUE(progress.starts.empty()) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no EntryError";
    return "";
  }

  TempDir dir_;
  static Pipeline* pipeline_;
};

Pipeline* BadComparison::pipeline_ = nullptr;

TEST_F(BadComparison, ATableForAnotherModelIsRefusedNamingTheEntry) {
  const std::string other = (dir_.path() / "other.yaml").string();
  write_bytes(other, "model: some-other-model\ndefault: sage1\n");
  const std::string message =
      entry_error({EntrySpec::of_variant(Variant::kSage1), EntrySpec::of_table(other)}, 1);
  EXPECT_EQ(message.rfind("entries[1]: " + other + ":", 0), 0u) << message;
  EXPECT_NE(message.find("cli-test-tiny"), std::string::npos) << message;

  // The same check without a loaded model, for clients that check before Pipeline::load.
  try {
    check_table_entries({EntrySpec::of_table(other)}, model_config_of(kModel), kSteps);
    ADD_FAILURE() << "no EntryError before load";
  } catch (const EntryError& e) {
    EXPECT_EQ(e.index(), 0u);
    EXPECT_NE(std::string(e.what()).find(other), std::string::npos) << e.what();
  }
}

TEST_F(BadComparison, ATableWithAnUnknownVariantIsRefusedNamingTheEntry) {
  const std::string bad = (dir_.path() / "sage9.yaml").string();
  write_bytes(bad, "model: cli-test-tiny\ndefault: sage9\n");
  const std::string message = entry_error({EntrySpec::of_table(bad)}, 0);
  EXPECT_EQ(message.rfind("entries[0]: " + bad + ":", 0), 0u) << message;
  EXPECT_NE(message.find("sage9"), std::string::npos) << message;
}

TEST_F(BadComparison, ATableWhoseStepsRunPastTheRequestsIsRefused) {
  const std::string long_table = (dir_.path() / "long.yaml").string();
  write_bytes(
      long_table,
      "model: cli-test-tiny\ndefault: sage1\nrules:\n  - {layers: all, steps: 5, variant: fp16}\n");
  const std::string message =
      entry_error({EntrySpec::of_variant(Variant::kSage1),
                   EntrySpec::of_variant(Variant::kSage2Int8), EntrySpec::of_table(long_table)},
                  2);
  EXPECT_EQ(message.rfind("entries[2]: " + long_table + ":", 0), 0u) << message;
}

TEST_F(BadComparison, BadRequestFieldsAreRefusedByName) {
  GenerateRequest with_attention = tiny_request();
  with_attention.attention = Variant::kSage1;
  try {
    run_comparison(*pipeline_, {with_attention, {EntrySpec::of_variant(Variant::kSage2Int8)}});
    ADD_FAILURE() << "attention was accepted";
  } catch (const RequestError& e) {
    ASSERT_EQ(e.fields().size(), 1u) << e.what();
    EXPECT_EQ(e.fields()[0].field, "attention");
  }
  GenerateRequest small = tiny_request();
  small.width = small.height = 8;  // a patch, under the 11x11 SSIM window
  try {
    run_comparison(*pipeline_, {small, {EntrySpec::of_variant(Variant::kSage2Int8)}});
    ADD_FAILURE() << "8x8 was accepted";
  } catch (const RequestError& e) {
    ASSERT_EQ(e.fields().size(), 2u) << e.what();
    EXPECT_EQ(e.fields()[0].field, "width");
    EXPECT_EQ(e.fields()[1].field, "height");
  }
  try {
    run_comparison(*pipeline_, {tiny_request(), {}});
    ADD_FAILURE() << "no entries was accepted";
  } catch (const RequestError& e) {
    ASSERT_EQ(e.fields().size(), 1u) << e.what();
    EXPECT_EQ(e.fields()[0].field, "entries");
  }
}

}  // namespace
}  // namespace sagegen::compare
