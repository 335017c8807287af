// Word-level tokenizer of the built-in model's text encoder (assets/vocab.txt).
// Text is lower-cased (ASCII) and split into words and punctuation; every sequence is
// <bos> words... <eos>, then <pad> up to the fixed length, with a mask that is true on real
// tokens. <bos> and <eos> mean an empty prompt (the usual negative prompt) still has tokens to
// attend to, so cross-attention never sees an all-masked row.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sagegen::text {

// The special tokens every vocabulary starts with, in this order (so their ids are fixed).
enum class SpecialToken : std::int64_t { kPad = 0, kUnk = 1, kBos = 2, kEos = 3 };

// Whether encode_batch warns about words it reads as <unk>. The pipeline reports its prompt's
// unknown words itself, in one warning with the words its captions never use.
enum class UnknownWordWarning { kWarn, kSilent };

struct TokenizedBatch {
  at::Tensor ids;   // [B, max_length] int64
  at::Tensor mask;  // [B, max_length] bool: true on <bos>, words and <eos>; false on <pad>
};

class WordTokenizer {
 public:
  // One token per line; line i (0-based) is id i. The first four lines must be <pad>, <unk>,
  // <bos>, <eos>; empty lines, spaces inside a token and duplicates are errors naming the line.
  // Throws std::runtime_error naming the file.
  static WordTokenizer from_file(const std::filesystem::path& path);
  // Same rules as from_file; `source` names the origin in messages.
  explicit WordTokenizer(std::vector<std::string> tokens, std::string source = "<memory>");

  WordTokenizer(WordTokenizer&&) noexcept;
  WordTokenizer& operator=(WordTokenizer&&) noexcept;
  ~WordTokenizer();

  // Lower-cases and splits: runs of letters/digits (and non-ASCII bytes) are words; a hyphenated
  // word stays whole when the vocabulary has it ("two-tone") and splits at the hyphens otherwise;
  // every other punctuation character is a token of its own; whitespace separates.
  std::vector<std::string> split(std::string_view text) const;

  // <bos> ids... <eos>, no padding or truncation. Unknown words map to <unk>, silently
  // (encode_batch warns; unknown_words lists them).
  std::vector<std::int64_t> encode(std::string_view text) const;

  // Fixed-length batch: sequences longer than max_length keep <bos>, the first max_length - 2
  // words and <eos> (a warning says how many words were dropped). max_length must be >= 2.
  // One warning per text that has unknown words, naming them (at most kWordsNamed of them), and
  // never the whole text.
  TokenizedBatch encode_batch(const std::vector<std::string>& texts, std::int64_t max_length,
                              UnknownWordWarning warning = UnknownWordWarning::kWarn) const;

  // The words of `text` not in the vocabulary, in order of appearance, without duplicates.
  std::vector<std::string> unknown_words(std::string_view text) const;

  std::string decode(const std::vector<std::int64_t>& ids) const;  // skips <pad>

  std::int64_t vocab_size() const;
  const std::string& source() const { return source_; }  // the vocabulary file (or "<memory>")
  std::optional<std::int64_t> id_of(std::string_view token) const;
  const std::string& token(std::int64_t id) const;  // throws std::out_of_range for a bad id
  static constexpr std::int64_t id(SpecialToken special) { return static_cast<std::int64_t>(special); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int64_t> ids_;
  std::string source_;
};

// Words named in one warning or error line; the rest are counted ("and 12 more").
constexpr std::size_t kWordsNamed = 10;

// "'zebra', 'quokka'" or "'w1', ..., 'w10' and 12 more".
std::string quote_words(const std::vector<std::string>& words, std::size_t at_most = kWordsNamed);

}  // namespace sagegen::text
