// Parity with transformers: the tokenizer of the tiny Wan folder (a small sentencepiece unigram
// model standing in for umT5's, made by scripts/wan_parity/make_fixtures.py) against the ids
// WanPipeline's tokenizer call gives for prompts with unicode, HTML entities, odd whitespace,
// nothing, and more than 512 tokens; prompt_clean on its own; the tokenizer folder's errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "sagegen/diffusers/umt5_tokenizer.h"
#include "sagegen/diffusers/wan_prompt_clean.h"
#include "sagegen/diffusers/wan_transformer.h"
#include "sagegen/errors.h"
#include "wan_fixtures.h"

namespace sagegen {
namespace {

std::filesystem::path tokenizer_dir() { return testing::wan_tiny_folder() / "tokenizer"; }

nlohmann::json tokenizer_reference() {
  std::ifstream in(testing::wan_tiny_dir() / "reference" / "tokenizer.json");
  return nlohmann::json::parse(in);
}

TEST(WanParity, Umt5TokenizerMatchesTransformers) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  const nlohmann::json ref = tokenizer_reference();
  ASSERT_EQ(ref["max_length"].get<int>(), diffusers::kWanTextLength);
  // The reference was made with ftfy installed, as diffusers' Wan pipelines advise.
  ASSERT_TRUE(ref["ftfy"].get<bool>());
  const auto tokenizer = diffusers::Umt5Tokenizer::load(tokenizer_dir());
  EXPECT_EQ(tokenizer.eos_id(), ref["eos_token_id"].get<std::int64_t>());
  EXPECT_EQ(tokenizer.pad_id(), ref["pad_token_id"].get<std::int64_t>());
  bool saw_truncation = false, saw_unknown = false;
  for (const nlohmann::json& item : ref["cases"]) {
    const std::string prompt = item["prompt"].get<std::string>();
    SCOPED_TRACE(prompt.substr(0, 60));
    EXPECT_EQ(diffusers::wan_prompt_clean(prompt), item["cleaned"].get<std::string>());
    const diffusers::TokenizedPrompts out =
        tokenizer.encode_prompts({prompt}, diffusers::kWanTextLength);
    ASSERT_EQ(out.ids.sizes(), (at::IntArrayRef{1, diffusers::kWanTextLength}));
    const auto length = item["length"].get<std::int64_t>();
    const std::vector<std::int64_t> expected = item["input_ids"].get<std::vector<std::int64_t>>();
    const at::Tensor ids = out.ids[0];
    const std::vector<std::int64_t> actual(ids.data_ptr<std::int64_t>(),
                                           ids.data_ptr<std::int64_t>() + length);
    EXPECT_EQ(actual, expected);
    EXPECT_EQ(out.mask[0].sum().item<std::int64_t>(), length);
    EXPECT_EQ(out.mask[0][length - 1].item<std::int64_t>(), 1);
    EXPECT_TRUE(at::equal(ids.slice(0, length), at::full({diffusers::kWanTextLength - length},
                                                         tokenizer.pad_id(), at::kLong)));
    saw_truncation |= length == diffusers::kWanTextLength;
    saw_unknown |= std::find(expected.begin(), expected.end(), 2) != expected.end();
  }
  // The fixture must keep covering both paths.
  EXPECT_TRUE(saw_truncation);
  EXPECT_TRUE(saw_unknown);
}

TEST(WanPromptClean, FollowsDiffusersWithFtfy) {
  // Expected values are what diffusers' prompt_clean (ftfy 6.3.1) returns.
  EXPECT_EQ(diffusers::wan_prompt_clean("&amp;amp;amp;amp;lt;"), "<");  // ftfy: to a fixed point
  EXPECT_EQ(diffusers::wan_prompt_clean("&amp;amp;amp;amp;lt; <"), "&amp;amp;lt; <");  // HTML-like
  EXPECT_EQ(diffusers::wan_prompt_clean(std::string("a\0b\x07"
                                                    "c",
                                                    5)),
            "abc");
  EXPECT_EQ(diffusers::wan_prompt_clean("&#0; &#128512;"), "\xEF\xBF\xBD \xF0\x9F\x98\x80");
  EXPECT_EQ(diffusers::wan_prompt_clean(" \t\n "), "");
  EXPECT_EQ(diffusers::wan_prompt_clean("\xFF ok"), "\xEF\xBF\xBD ok");  // invalid UTF-8
}

TEST(WanParity, Umt5TokenizerComposesLikeNfc) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  // ftfy composes "e" + U+0301 to "é" (NFC) before transformers sees it; prompt_clean does not,
  // and the sentencepiece model's NFKC gives the same ids.
  const auto tokenizer = diffusers::Umt5Tokenizer::load(tokenizer_dir());
  EXPECT_EQ(tokenizer.encode("caf\x65\xCC\x81", 16), tokenizer.encode("caf\xC3\xA9", 16));
}

TEST(WanParity, Umt5AddedTokensFromTheConfigSplitTheText) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  // umT5's <extra_id_N> sentinels are added tokens past the sentencepiece vocabulary, listed in
  // tokenizer_config.json's added_tokens_decoder.
  testing::TempDir dir;
  testing::copy_tree(tokenizer_dir(), dir.path() / "tokenizer");
  const auto config_path = dir.path() / "tokenizer" / "tokenizer_config.json";
  nlohmann::json config = nlohmann::json::parse(std::ifstream(config_path));
  config["added_tokens_decoder"] = {{"387", {{"content", "<extra_id_0>"}, {"special", true}}}};
  std::ofstream(config_path) << config.dump(2);
  const auto tokenizer = diffusers::Umt5Tokenizer::load(dir.path() / "tokenizer");
  EXPECT_EQ(tokenizer.vocab_size(), 388);
  std::vector<std::int64_t> expected = tokenizer.encode("a cat", 64);
  expected.pop_back();  // </s>
  expected.push_back(387);
  std::vector<std::int64_t> rest = tokenizer.encode("walks", 64);
  expected.insert(expected.end(), rest.begin(), rest.end());
  EXPECT_EQ(tokenizer.encode("a cat<extra_id_0> walks", 64), expected);
}

TEST(WanParity, Umt5TokenizerTruncatesKeepingEos) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  const auto tokenizer = diffusers::Umt5Tokenizer::load(tokenizer_dir());
  const std::vector<std::int64_t> ids = tokenizer.encode("a cat walks on the grass", 4);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.back(), tokenizer.eos_id());
  EXPECT_EQ(tokenizer.encode("", 4), std::vector<std::int64_t>{tokenizer.eos_id()});
}

// A copy of the tokenizer folder with tokenizer_config.json's `key` = `value`; the load's error.
std::string tokenizer_config_error(const std::string& key, const nlohmann::json& value) {
  testing::TempDir dir;
  testing::copy_tree(tokenizer_dir(), dir.path() / "tokenizer");
  const auto config_path = dir.path() / "tokenizer" / "tokenizer_config.json";
  nlohmann::json config = nlohmann::json::parse(std::ifstream(config_path));
  config[key] = value;
  std::ofstream(config_path) << config.dump(2);
  try {
    diffusers::Umt5Tokenizer::load(dir.path() / "tokenizer");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError for " << key;
  return "";
}

TEST(WanFolderErrors, TokenizerConfigValuesSagegenCannotRun) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, nlohmann::json>>{{"tokenizer_class", "BertTokenizer"},
                                                           {"padding_side", "left"},
                                                           {"truncation_side", "left"},
                                                           {"eos_token", "<end>"}}) {
    const std::string message = tokenizer_config_error(key, value);
    EXPECT_NE(message.find("tokenizer_config.json: " + key), std::string::npos) << message;
  }
}

TEST(WanFolderErrors, TokenizerWithoutSentencepieceModel) {
  SAGEGEN_SKIP_WITHOUT_SENTENCEPIECE();
  testing::TempDir dir;
  std::filesystem::copy_file(tokenizer_dir() / "tokenizer_config.json",
                             dir.path() / "tokenizer_config.json");
  try {
    diffusers::Umt5Tokenizer::load(dir.path());
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no spiece.model"), std::string::npos) << e.what();
  }
  std::ofstream(dir.path() / "spiece.model") << "not a model";
  try {
    diffusers::Umt5Tokenizer::load(dir.path());
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not a sentencepiece model"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sagegen
