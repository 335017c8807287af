// Word-level tokenizer on the shipped vocabulary (assets/vocab.txt) and on small in-memory ones.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <stdexcept>

#include "sagegen/text/tokenizer.h"

namespace sagegen::text {
namespace {

WordTokenizer shipped() { return WordTokenizer::from_file(SAGEGEN_SOURCE_DIR "/assets/vocab.txt"); }

std::int64_t id(const WordTokenizer& tokenizer, const char* word) {
  const auto found = tokenizer.id_of(word);
  EXPECT_TRUE(found.has_value()) << word;
  return found.value_or(-1);
}

TEST(Tokenizer, ShippedVocabularyHasTheShapesWorld) {
  const WordTokenizer tokenizer = shipped();
  EXPECT_GE(tokenizer.vocab_size(), 90);
  EXPECT_LE(tokenizer.vocab_size(), 140);
  for (const char* word : {"circle", "square", "triangle", "ring", "cross", "red", "green", "blue",
                           "yellow", "orange", "purple", "white", "black", "small", "large", "tiny",
                           "left", "above", "below", "center", "next", "to", "moving", "growing",
                           "shrinking", "background", "plain", "two-tone"}) {
    EXPECT_TRUE(tokenizer.id_of(word).has_value()) << word;
  }
  EXPECT_EQ(tokenizer.token(0), "<pad>");
  EXPECT_EQ(tokenizer.token(WordTokenizer::id(SpecialToken::kUnk)), "<unk>");
}

TEST(Tokenizer, KnownWordsLowerCasedAndPunctuationSplit) {
  const WordTokenizer tokenizer = shipped();
  EXPECT_EQ(tokenizer.split("A Red circle, above the BLUE square."),
            (std::vector<std::string>{"a", "red", "circle", ",", "above", "the", "blue", "square", "."}));
  const std::vector<std::int64_t> ids = tokenizer.encode("A RED Circle");
  EXPECT_EQ(ids, (std::vector<std::int64_t>{WordTokenizer::id(SpecialToken::kBos), id(tokenizer, "a"),
                                            id(tokenizer, "red"), id(tokenizer, "circle"),
                                            WordTokenizer::id(SpecialToken::kEos)}));
  EXPECT_EQ(tokenizer.decode(ids), "<bos> a red circle <eos>");
}

TEST(Tokenizer, HyphenatedWordsWholeWhenKnownSplitOtherwise) {
  const WordTokenizer tokenizer = shipped();
  EXPECT_EQ(tokenizer.split("two-tone background"), (std::vector<std::string>{"two-tone", "background"}));
  EXPECT_EQ(tokenizer.split("top-left corner"), (std::vector<std::string>{"top", "left", "corner"}));
  EXPECT_EQ(tokenizer.split("- red -"), (std::vector<std::string>{"-", "red", "-"}));
}

TEST(Tokenizer, UnknownWordsBecomeUnk) {
  const WordTokenizer tokenizer = shipped();
  const std::vector<std::int64_t> ids = tokenizer.encode("a magenta zebra circle zebra");
  const std::int64_t unk = WordTokenizer::id(SpecialToken::kUnk);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{WordTokenizer::id(SpecialToken::kBos), id(tokenizer, "a"), unk, unk,
                                            id(tokenizer, "circle"), unk, WordTokenizer::id(SpecialToken::kEos)}));
  EXPECT_EQ(tokenizer.unknown_words("a magenta zebra circle zebra"),
            (std::vector<std::string>{"magenta", "zebra"}));
}

// One warning per prompt naming its unknown words (each once), never the prompt itself: a
// 2,000-word prompt wrote a 10.5 KB log line (issue 13 item 3).
TEST(Tokenizer, OneWarningPerPromptNamesItsUnknownWords) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "tokenizer-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  const WordTokenizer tokenizer = shipped();
  tokenizer.encode("a zebra circle");  // encode() alone is silent
  tokenizer.encode_batch({"zebra zebra and a quokka", "a red circle"}, 8);
  std::string long_prompt;
  for (int i = 0; i < 2000; ++i) long_prompt += "word" + std::to_string(i) + " ";
  tokenizer.encode_batch({long_prompt}, 8);
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  auto count = [&](const std::string& needle) {
    int n = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("'zebra'"), 1) << text;
  EXPECT_EQ(count("'quokka'"), 1) << text;
  EXPECT_EQ(count("2 words of the prompt not in the vocabulary"), 1) << text;
  EXPECT_EQ(count("'word9' and 1990 more"), 1) << text;
  EXPECT_EQ(count("a prompt of 2000 words; only the first 6 fit"), 1) << text;
  EXPECT_EQ(count("[warning]"), 3) << text;
  EXPECT_LT(text.size(), 1000u) << text;
}

TEST(Tokenizer, BatchPadsAndMasks) {
  const WordTokenizer tokenizer = shipped();
  const TokenizedBatch batch = tokenizer.encode_batch({"a red circle", ""}, 8);
  ASSERT_EQ(batch.ids.sizes(), (at::IntArrayRef{2, 8}));
  ASSERT_EQ(batch.mask.sizes(), (at::IntArrayRef{2, 8}));
  EXPECT_EQ(batch.ids.scalar_type(), at::kLong);
  EXPECT_EQ(batch.mask.scalar_type(), at::kBool);
  const at::Tensor expected_mask = at::tensor({1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0}).reshape({2, 8}).to(at::kBool);
  EXPECT_TRUE(at::equal(batch.mask, expected_mask));
  // Padding is <pad> exactly where the mask is false; an empty prompt is <bos> <eos>.
  EXPECT_TRUE(at::equal(batch.ids.masked_select(~batch.mask),
                        at::zeros({9}, at::kLong) + WordTokenizer::id(SpecialToken::kPad)));
  EXPECT_EQ(batch.ids[1][0].item<std::int64_t>(), WordTokenizer::id(SpecialToken::kBos));
  EXPECT_EQ(batch.ids[1][1].item<std::int64_t>(), WordTokenizer::id(SpecialToken::kEos));
}

TEST(Tokenizer, LongPromptsTruncateKeepingEos) {
  const WordTokenizer tokenizer = shipped();
  const TokenizedBatch batch = tokenizer.encode_batch({"a small red circle above a large blue square"}, 5);
  const std::vector<std::int64_t> ids(batch.ids.data_ptr<std::int64_t>(), batch.ids.data_ptr<std::int64_t>() + 5);
  EXPECT_EQ(tokenizer.decode(ids), "<bos> a small red <eos>");
  EXPECT_TRUE(batch.mask.all().item<bool>());
  EXPECT_THROW(tokenizer.encode_batch({"a"}, 1), std::invalid_argument);
}

TEST(Tokenizer, VocabularyFileErrorsNameTheLine) {
  auto message_of = [](std::vector<std::string> tokens) -> std::string {
    try {
      WordTokenizer tokenizer(std::move(tokens), "test-vocab");
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message_of({"<pad>", "<unk>", "<bos>"}).find("line 4 must be '<eos>'"), std::string::npos);
  EXPECT_NE(message_of({"<pad>", "<unk>", "<bos>", "<eos>", "red", "red"}).find("line 6 repeats 'red' of line 5"),
            std::string::npos);
  EXPECT_NE(message_of({"<pad>", "<unk>", "<bos>", "<eos>", ""}).find("test-vocab': line 5 is empty"),
            std::string::npos);
  EXPECT_THROW(WordTokenizer::from_file("/nonexistent/vocab.txt"), std::runtime_error);
  EXPECT_THROW(shipped().token(10000), std::out_of_range);
}

}  // namespace
}  // namespace sagegen::text
