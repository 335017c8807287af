// Text-to-image/video end to end on a small random-weight model (CPU, nothing written):
// shapes, determinism, request errors, attention routing and counts, progress, latent configs.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <sstream>

#include "common/temp_dir.h"
#include "sagegen/io/safetensors.h"
#include "sagegen/model_config.h"
#include "sagegen/models/text_to_video_model.h"
#include "sagegen/models/weights.h"
#include "sagegen/pipeline.h"

namespace sagegen {
namespace {

namespace fs = std::filesystem;

// A per-process directory with a 2-block random model config (and a table for it).
class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("sagegen_test_pipeline_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    write(dir_ / "small.yaml", config_text("pixel", ""));
    write(dir_ / "small-latent.yaml", config_text("latent", "latent_scale: [4, 8, 8]\n"));
    write(dir_ / "small-f32.yaml", config_text("pixel", "cuda_dtype: float32\n"));
    write(dir_ / "small-table.yaml", R"(model: small-test
default: sage2-8b
rules:
  - {layers: all, steps: 0, variant: fp16}
  - {layers: [1, 3], steps: all, variant: fp16}
)");
  }
  static void TearDownTestSuite() { sagegen::testing::remove_tree(dir_); }

  static std::string config_text(const std::string& space, const std::string& extra) {
    return "name: small-test\nspace: " + space + "\n" + extra + R"(dit:
  depth: 2
  width: 64
  heads: 2
  head_dim: 32
  ffn_dim: 128
  patch: [1, 4, 4]
  in_channels: )" + (space == "pixel" ? "3" : "4") + R"(
  out_channels: )" + (space == "pixel" ? "3" : "4") + R"(
  text_dim: 32
  text_length: 8
  freq_dim: 32
text_encoder:
  layers: 1
  width: 32
  heads: 2
  ffn_dim: 64
  vocab: )" + std::string(SAGEGEN_SOURCE_DIR) + R"(/assets/vocab.txt
weights: random
seed: 11
)";
  }
  static void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

  static LoadOptions load_options() {
    LoadOptions options;
    options.model = (dir_ / "small.yaml").string();
    options.device = DeviceChoice::kCpu;
    return options;
  }

  static GenerateRequest request() {
    GenerateRequest r;
    r.prompt = "a red circle above a blue square";
    r.negative_prompt = "";
    r.width = 16;
    r.height = 12;
    r.steps = 3;
    r.cfg_scale = 4.0;
    r.seed = 5;
    return r;
  }

  static fs::path dir_;
};
fs::path PipelineTest::dir_;

TEST_F(PipelineTest, TextToImageShapesCountsAndProgress) {
  auto pipeline = Pipeline::load(load_options());
  EXPECT_TRUE(pipeline->random_weights());
  EXPECT_EQ(pipeline->device_name(), "cpu");
  EXPECT_EQ(pipeline->patch_width(), 4);
  std::vector<int> steps_seen;
  const GenerateResult result = pipeline->generate(request(), [&](const StepProgress& p) {
    steps_seen.push_back(p.step);
    EXPECT_EQ(p.total, 3);
    EXPECT_GE(p.seconds_elapsed, 0.0);
  });
  EXPECT_EQ(result.video.sizes(), (std::vector<std::int64_t>{1, 12, 16, 3}));
  EXPECT_EQ(result.video.scalar_type(), at::kByte);
  EXPECT_TRUE(result.video.device().is_cpu());
  EXPECT_EQ(steps_seen, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(result.step_seconds.size(), 3u);
  EXPECT_GT(result.seconds_total, 0.0);
  EXPECT_EQ(result.model_name, "small-test");
  EXPECT_TRUE(result.random_weights);
  // No table, no override: auto is fp16 on the CPU. CFG batches cond and uncond, so one call
  // per layer id per step (4 ids x 3 steps), plus the text encoder's layer for each prompt.
  EXPECT_EQ(result.attention_calls, (std::map<std::string, std::int64_t>{{"fp16", 12 + 2}}));
}

TEST_F(PipelineTest, SameSeedSameBytesOnCpuAcrossLoads) {
  const GenerateResult a = Pipeline::load(load_options())->generate(request());
  const GenerateResult b = Pipeline::load(load_options())->generate(request());
  EXPECT_TRUE(at::equal(a.video, b.video));
  GenerateRequest other = request();
  other.seed = 6;
  EXPECT_FALSE(at::equal(a.video, Pipeline::load(load_options())->generate(other).video));
  GenerateRequest prompt = request();
  prompt.prompt = "a green triangle";
  EXPECT_FALSE(at::equal(a.video, Pipeline::load(load_options())->generate(prompt).video));
}

TEST_F(PipelineTest, TextToVideoAndNoGuidance) {
  auto pipeline = Pipeline::load(load_options());
  GenerateRequest r = request();
  r.frames = 3;
  r.cfg_scale = 1.0;  // no negative pass
  const GenerateResult result = pipeline->generate(r);
  EXPECT_EQ(result.video.sizes(), (std::vector<std::int64_t>{3, 12, 16, 3}));
  EXPECT_EQ(result.attention_calls.at("fp16"), 12 + 1);
  EXPECT_EQ(result.frames, 3);
}

TEST_F(PipelineTest, TableAndOverrideRouteTheCalls) {
  LoadOptions options = load_options();
  options.table = (dir_ / "small-table.yaml").string();
  auto pipeline = Pipeline::load(options);
  GenerateRequest r = request();
  const GenerateResult tabled = pipeline->generate(r);
  // step 0: 4 fp16; steps 1-2: ids 1, 3 fp16 (4), ids 0, 2 sage2-8b (4); text encoder 2 fp16.
  EXPECT_EQ(tabled.attention_calls,
            (std::map<std::string, std::int64_t>{{"fp16", 4 + 4 + 2}, {"sage2-8b", 4}}));
  EXPECT_EQ(tabled.table_path, options.table);
  r.attention = sageattn::Variant::kSage1;
  const GenerateResult overridden = pipeline->generate(r);
  EXPECT_EQ(overridden.attention_calls,
            (std::map<std::string, std::int64_t>{{"fp16", 2}, {"sage1", 12}}));
  EXPECT_EQ(overridden.attention_override, "sage1");
  EXPECT_TRUE(overridden.table_path.empty());
}

// A rule that earlier rules shadow decides nothing: the pipeline logs the resolver's warning
// (file:line:column and the rule) when it runs the table, once for repeated generations.
TEST_F(PipelineTest, ShadowedTableRulesAreLoggedOnce) {
  write(dir_ / "shadowed-table.yaml", R"(model: small-test
default: sage2-8b
rules:
  - {layers: all, steps: all, variant: fp16}
  - {layers: 0, steps: all, variant: sage1}
)");
  LoadOptions options = load_options();
  options.table = (dir_ / "shadowed-table.yaml").string();
  auto pipeline = Pipeline::load(options);
  GenerateRequest r = request();
  r.steps = 1;
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "table-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  pipeline->generate(r);
  pipeline->generate(r);
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  const std::string expected = options.table + ":5:5: rules[1]: decides nothing";
  const std::size_t first = text.find(expected);
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_NE(text.rfind("[warning]", first), std::string::npos) << text;
  EXPECT_EQ(text.find(expected, first + 1), std::string::npos) << "logged twice:\n" << text;
}

// A table is a per-generation choice: a pipeline loaded without one runs the table a request
// names, then its own default again, without reloading the model; a table for another model is a
// ConfigError at the call that names it.
TEST_F(PipelineTest, ATableNamedPerRequestRunsOnTheLoadedModel) {
  auto pipeline = Pipeline::load(load_options());
  ASSERT_TRUE(pipeline->table_path().empty());
  GenerateRequest r = request();
  r.table = (dir_ / "small-table.yaml").string();
  const GenerateResult tabled = pipeline->generate(r);
  EXPECT_EQ(tabled.attention_calls,
            (std::map<std::string, std::int64_t>{{"fp16", 4 + 4 + 2}, {"sage2-8b", 4}}));
  EXPECT_EQ(tabled.table_path, r.table);
  const GenerateResult plain = pipeline->generate(request());
  EXPECT_TRUE(plain.table_path.empty());
  // No table: auto everywhere, which is fp16 on the CPU (12 DiT calls and 2 text encoder calls).
  EXPECT_EQ(plain.attention_calls, (std::map<std::string, std::int64_t>{{"fp16", 14}}));
  r.table = std::string(SAGEGEN_SOURCE_DIR) + "/configs/tables/tiny-8bit.yaml";  // other model
  EXPECT_THROW(pipeline->generate(r), ConfigError);
}

std::string request_error(Pipeline& pipeline, const GenerateRequest& r) {
  try {
    pipeline.generate(r);
  } catch (const RequestError& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(PipelineTest, BadRequestsNameTheField) {
  auto pipeline = Pipeline::load(load_options());
  GenerateRequest r = request();
  r.width = 18;
  const std::string size = request_error(*pipeline, r);
  EXPECT_NE(size.find("width 18, height 12: width 18 must be a positive multiple of 4"),
            std::string::npos)
      << size;
  r = request();
  r.height = 0;
  EXPECT_NE(request_error(*pipeline, r).find("height 0"), std::string::npos);
  r = request();
  r.frames = 0;
  EXPECT_NE(request_error(*pipeline, r).find("frames 0: must be >= 1"), std::string::npos);
  r = request();
  r.steps = 0;
  EXPECT_NE(request_error(*pipeline, r).find("steps 0"), std::string::npos);
}

TEST_F(PipelineTest, MissingModelAndBadTableAreConfigErrors) {
  LoadOptions r = load_options();
  r.model = (dir_ / "absent.yaml").string();
  EXPECT_THROW(Pipeline::load(r), ConfigError);
  r.model = "no-such-model-name";
  try {
    Pipeline::load(r);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-model-name.yaml"), std::string::npos);
  }
  r = load_options();
  r.table = std::string(SAGEGEN_SOURCE_DIR) + "/configs/tables/tiny-8bit.yaml";  // other model
  EXPECT_THROW(Pipeline::load(r), ConfigError);
}

TEST_F(PipelineTest, CudaWithoutAGpuIsARequestError) {
  LoadOptions r = load_options();
  r.device = DeviceChoice::kCuda;
  std::unique_ptr<Pipeline> pipeline;
  try {
    pipeline = Pipeline::load(r);
  } catch (const RequestError& e) {
    EXPECT_NE(std::string(e.what()).find("device cuda: CUDA is not available"), std::string::npos);
    return;
  }
  EXPECT_EQ(pipeline->device_name(), "cuda:0");  // a GPU is present: it must be used
}

TEST_F(PipelineTest, LatentModelsOnlyTimeSteps) {
  LoadOptions options = load_options();
  options.model = (dir_ / "small-latent.yaml").string();
  GenerateRequest r = request();
  r.width = 64;
  r.height = 32;
  r.frames = 5;  // 1 + 4: two latent frames
  auto pipeline = Pipeline::load(options);
  EXPECT_EQ(pipeline->patch_width(), 32);
  EXPECT_THROW(pipeline->generate(r), ConfigError);
  const DenoiseStepTiming timing = pipeline->time_denoise_step(r, 1, 2);
  EXPECT_EQ(timing.video_tokens, 2 * 1 * 2);  // 2 frames x (32/8/4) x (64/8/4)
  EXPECT_EQ(timing.batch, 2);
  EXPECT_GT(timing.seconds_per_step, 0.0);
  EXPECT_GT(timing.attention_seconds_per_step, 0.0);
  EXPECT_LE(timing.attention_seconds_per_step, timing.synced_seconds_per_step);
  EXPECT_EQ(timing.attention_calls.at("fp16"), 4);
  r.frames = 4;
  EXPECT_THROW(pipeline->time_denoise_step(r, 0, 1), RequestError);
}

// The message of what `run` throws as E, or "" when it throws nothing.
template <typename E, typename Fn>
std::string error_of(Fn run) {
  try {
    run();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

// Issue 13 item 2: NaN/Inf never becomes an image. An attention output poisoned at one layer
// and step stops the run naming both, and the progress stops before that step.
TEST_F(PipelineTest, NonFiniteLatentNamesTheStepAndTheFirstLayer) {
  auto pipeline = Pipeline::load(load_options());
  pipeline->set_attention_observer([](const AttentionCall& call) {
    if (call.layer == 3 && call.step == 1) call.out.fill_(std::nan(""));
  });
  int last_step = 0;
  const std::string message = error_of<RunError>([&] {
    pipeline->generate(request(), [&](const StepProgress& p) { last_step = p.step; });
  });
  EXPECT_EQ(message,
            "non-finite values (NaN/Inf) in the latent at step 2 of 3: first at attention layer 3 "
            "(block 1 cross-attention, fp16)");
  EXPECT_EQ(last_step, 1);
}

// An allocation that fails mid-run is one line naming the stage and the size.
TEST_F(PipelineTest, OutOfMemoryNamesTheStageAndTheSize) {
  auto pipeline = Pipeline::load(load_options());
  pipeline->set_attention_observer([](const AttentionCall& call) {
    TORCH_CHECK_WITH(OutOfMemoryError, call.step != 2, "CUDA out of memory. Tried to allocate 9 GiB");
  });
  const std::string message = error_of<RunError>([&] { pipeline->generate(request()); });
  EXPECT_EQ(message.rfind("out of memory in step 3 of 3 (16x12x1 on cpu): CUDA out of memory. "
                          "Tried to allocate 9 GiB", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

// Issue 13 item 1: sizes, frames and model dimensions beyond the device's memory are refused
// before any tensor is made, naming what was asked and the limit.
TEST_F(PipelineTest, RequestsAndModelsBeyondMemoryAreRefusedUpFront) {
  auto pipeline = Pipeline::load(load_options());
  GenerateRequest huge = request();
  huge.width = 400000;
  huge.height = 400000;
  const std::string size = error_of<RequestError>([&] { pipeline->generate(huge); });
  EXPECT_EQ(size.rfind("width 400000, height 400000, frames 1: needs at least ", 0), 0u) << size;
  EXPECT_NE(size.find("tokens per sample for model small-test), more than the "), std::string::npos)
      << size;
  GenerateRequest long_clip = request();
  long_clip.frames = 2'000'000'000;
  EXPECT_EQ(error_of<RequestError>([&] { pipeline->time_denoise_step(long_clip, 0, 1); })
                .rfind("width 16, height 12, frames 2000000000: needs at least ", 0),
            0u);

  write(dir_ / "deep.yaml", config_text("pixel", "").replace(
                                config_text("pixel", "").find("depth: 2"), 8, "depth: 100000000"));
  LoadOptions deep = load_options();
  deep.model = (dir_ / "deep.yaml").string();
  const std::string model = error_of<ConfigError>([&] { Pipeline::load(deep); });
  EXPECT_EQ(model.rfind((dir_ / "deep.yaml").string() + ": dit depth 100000000, width 64, ffn_dim "
                        "128 (text encoder: 1 layers, width 32): at least ", 0), 0u) << model;
  EXPECT_NE(model.find(" of memory on cpu"), std::string::npos) << model;
}

// Weights with a NaN are refused at load, naming the file and the tensor.
TEST_F(PipelineTest, NonFiniteWeightsAreRefusedAtLoad) {
  c10::InferenceMode inference;
  const ModelConfig config = load_model_config((dir_ / "small.yaml").string());
  models::TextToVideoModel model = models::build_text_to_video_model(config, at::TensorOptions());
  models::init_random(model.parameters, 1);
  model.parameters.at("blocks.1.ffn.net.0.proj.weight")[0][0] = std::nan("");
  const fs::path weights = dir_ / "nan.safetensors";
  io::save_safetensors(weights, model.parameters);
  LoadOptions r = load_options();
  r.weights = weights.string();
  EXPECT_EQ(error_of<ConfigError>([&] { Pipeline::load(r); }),
            weights.string() + ": tensor 'blocks.1.ffn.net.0.proj.weight' has 1 non-finite values (NaN/Inf) "
            "of 8192");
}

// Words the captions never use (a model with `captions: shapes-world`): in the result, refused
// with strict_prompt; a templated prompt has none.
TEST_F(PipelineTest, WordsOutsideTheCaptionsAreRecordedOrRefusedWhenStrict) {
  write(dir_ / "captions.yaml", config_text("pixel", "captions: shapes-world\n"));
  LoadOptions options = load_options();
  options.model = (dir_ / "captions.yaml").string();
  GenerateRequest r = request();
  r.steps = 1;
  auto pipeline = Pipeline::load(options);
  EXPECT_TRUE(pipeline->generate(r).words_outside_captions.empty());
  r.prompt = "a red circle beside a blue square near";  // both words are in the vocabulary
  const GenerateResult result = pipeline->generate(r);
  EXPECT_TRUE(result.unknown_words.empty());
  EXPECT_EQ(result.words_outside_captions, (std::vector<std::string>{"beside", "near"}));
  r.strict_prompt = true;
  EXPECT_EQ(error_of<RequestError>([&] { pipeline->generate(r); }),
            "strict_prompt: 2 words of the prompt in no caption the model small-test was trained "
            "on (shapes-world): 'beside', 'near'");
  write(dir_ / "bad-captions.yaml", config_text("pixel", "captions: cats\n"));
  options.model = (dir_ / "bad-captions.yaml").string();
  EXPECT_NE(error_of<ConfigError>([&] { Pipeline::load(options); }).find("'cats' is not one of: shapes-world"),
            std::string::npos);
}

// Issue 13 item 3: unknown words are listed in the result, and refused with strict_prompt.
TEST_F(PipelineTest, UnknownWordsAreRecordedOrRefusedWhenStrict) {
  auto pipeline = Pipeline::load(load_options());
  GenerateRequest r = request();
  r.steps = 1;
  r.prompt = "a mauve circle above a zebra, a mauve quokka";
  EXPECT_EQ(pipeline->generate(r).unknown_words,
            (std::vector<std::string>{"mauve", "zebra", "quokka"}));
  r.strict_prompt = true;
  EXPECT_EQ(error_of<RequestError>([&] { pipeline->generate(r); }),
            "strict_prompt: 3 words of the prompt the model small-test has no embedding for: "
            "'mauve', 'zebra', 'quokka'");
}

// Issue 13 item 3: one warning per prompt names both kinds of word (the unknown ones once, not
// again as uncaptioned), and the prompt is not echoed.
TEST_F(PipelineTest, OneWarningPerPromptNamesUnknownAndUncaptionedWords) {
  write(dir_ / "captions.yaml", config_text("pixel", "captions: shapes-world\n"));
  LoadOptions options = load_options();
  options.model = (dir_ / "captions.yaml").string();
  GenerateRequest r = request();
  r.steps = 1;
  r.prompt = "a red circle beside a zebra";  // 'beside' is in the vocabulary, 'zebra' is not
  auto pipeline = Pipeline::load(options);
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "prompt-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  const GenerateResult result = pipeline->generate(r);
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  EXPECT_EQ(result.unknown_words, (std::vector<std::string>{"zebra"}));
  EXPECT_EQ(result.words_outside_captions, (std::vector<std::string>{"beside", "zebra"}));
  std::size_t warnings = 0;
  for (std::size_t at = text.find("[warning]"); at != std::string::npos; at = text.find("[warning]", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << text;
  EXPECT_NE(text.find("1 word of the prompt not in the vocabulary"), std::string::npos) << text;
  EXPECT_NE(text.find("read as <unk>: 'zebra'; 1 word of the prompt in no caption the model "
                      "small-test was trained on (shapes-world): 'beside'"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("a red circle"), std::string::npos) << text;
}

// GPU (skipped without one): same noise as the CPU, so a float32 model lands on nearly the same
// pixels; a few levels of difference come from other summation orders in the kernels.
TEST_F(PipelineTest, CudaRunStartsFromTheCpuNoise) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU";
  // TF32 (torch's default for cuDNN convolutions, such as the patch embedding) would be a
  // precision difference, not the seeding this test is about: float32 throughout.
  struct NoTf32 {
    bool cudnn = at::globalContext().allowTF32CuDNN();
    bool cublas = at::globalContext().allowTF32CuBLAS();
    NoTf32() {
      at::globalContext().setAllowTF32CuDNN(false);
      at::globalContext().setAllowTF32CuBLAS(false);
    }
    ~NoTf32() {
      at::globalContext().setAllowTF32CuDNN(cudnn);
      at::globalContext().setAllowTF32CuBLAS(cublas);
    }
  } no_tf32;
  LoadOptions options = load_options();
  options.model = (dir_ / "small-f32.yaml").string();
  GenerateRequest r = request();
  r.attention = sageattn::Variant::kFp16;
  const GenerateResult cpu = Pipeline::load(options)->generate(r);
  options.device = DeviceChoice::kCuda;
  const GenerateResult gpu = Pipeline::load(options)->generate(r);
  EXPECT_EQ(gpu.device, "cuda:0");
  EXPECT_TRUE(gpu.video.device().is_cpu());
  const at::Tensor diff = (cpu.video.to(at::kInt) - gpu.video.to(at::kInt)).abs();
  EXPECT_LE(diff.max().item<int>(), 3);
  EXPECT_LT(diff.to(at::kFloat).mean().item<double>(), 0.5);
}

// compare checks its variants with this before generating: on the CPU the golden model runs every
// variant; on a GPU the answer must agree with what a generation does.
TEST_F(PipelineTest, WhyVariantUnsupportedAgreesWithGeneration) {
  auto pipeline = Pipeline::load(load_options());
  for (const std::string& name : sageattn::variant_names()) {
    const sageattn::Variant variant = *sageattn::parse_variant(name);
    EXPECT_EQ(pipeline->why_variant_unsupported(variant), "") << name;
  }
  if (!torch::cuda::is_available()) return;
  LoadOptions options = load_options();
  options.device = DeviceChoice::kCuda;
  GenerateRequest r = request();
  r.steps = 1;
  auto gpu = Pipeline::load(options);
  for (const std::string& name : sageattn::variant_names()) {
    r.attention = *sageattn::parse_variant(name);
    const std::string why = gpu->why_variant_unsupported(*r.attention);
    if (why.empty()) {
      EXPECT_NO_THROW(gpu->generate(r)) << name;
    } else {
      EXPECT_ANY_THROW(gpu->generate(r)) << name << ": " << why;
    }
  }
}

// The shipped built-in config end to end on the CPU (2 steps keep CI short; the step time is
// printed: docs/pipeline.md has the 20-step figure).
TEST(BuiltInModel, TinyTextToImageRunsOnCpu) {
  LoadOptions options;
  options.model = std::string(SAGEGEN_SOURCE_DIR) + "/configs/models/sagegen-tiny.yaml";
  options.device = DeviceChoice::kCpu;
  GenerateRequest r;
  r.prompt = "a red circle";
  r.steps = 2;
  r.attention = sageattn::Variant::kFp16;
  auto pipeline = Pipeline::load(options);
  const GenerateResult result = pipeline->generate(r);
  EXPECT_EQ(result.video.sizes(), (std::vector<std::int64_t>{1, 64, 64, 3}));
  EXPECT_GT(result.video.to(at::kFloat).std().item<double>(), 0.0);
  std::printf("sagegen-tiny 64x64, CFG, cpu: %.3f s/step\n", result.seconds_per_step);
}

}  // namespace
}  // namespace sagegen
