#include "sagegen/text/tokenizer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace sagegen::text {
namespace {

constexpr std::array<std::string_view, 4> kSpecialTokens = {"<pad>", "<unk>", "<bos>", "<eos>"};

bool is_word_byte(unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; }

}  // namespace

WordTokenizer WordTokenizer::from_file(const std::filesystem::path& path) {
  std::ifstream stream(path);
  if (!stream) {
    throw std::runtime_error(fmt::format("cannot read vocabulary '{}': no such file", path.string()));
  }
  std::vector<std::string> tokens;
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files edited on Windows
    tokens.push_back(std::move(line));
  }
  return WordTokenizer(std::move(tokens), path.string());
}

WordTokenizer::WordTokenizer(std::vector<std::string> tokens, std::string source)
    : tokens_(std::move(tokens)), source_(std::move(source)) {
  for (std::size_t i = 0; i < kSpecialTokens.size(); ++i) {
    if (i >= tokens_.size() || tokens_[i] != kSpecialTokens[i]) {
      throw std::runtime_error(fmt::format("vocabulary '{}': line {} must be '{}' (found '{}')", source_,
                                           i + 1, kSpecialTokens[i],
                                           i < tokens_.size() ? tokens_[i] : "end of file"));
    }
  }
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const std::string& token = tokens_[i];
    if (token.empty() || token.find_first_of(" \t") != std::string::npos) {
      throw std::runtime_error(fmt::format("vocabulary '{}': line {} is {}", source_, i + 1,
                                           token.empty() ? "empty" : "not one token: '" + token + "'"));
    }
    const auto [it, inserted] = ids_.emplace(token, static_cast<std::int64_t>(i));
    if (!inserted) {
      throw std::runtime_error(fmt::format("vocabulary '{}': line {} repeats '{}' of line {}", source_,
                                           i + 1, token, it->second + 1));
    }
  }
}

WordTokenizer::WordTokenizer(WordTokenizer&&) noexcept = default;
WordTokenizer& WordTokenizer::operator=(WordTokenizer&&) noexcept = default;
WordTokenizer::~WordTokenizer() = default;

std::vector<std::string> WordTokenizer::split(std::string_view text) const {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (std::isspace(c)) {
      ++i;
    } else if (is_word_byte(c)) {
      // A word, with the hyphens that join it to further words ("two-tone").
      std::string word;
      while (i < text.size()) {
        const auto d = static_cast<unsigned char>(text[i]);
        const bool joining_hyphen = d == '-' && !word.empty() && i + 1 < text.size() &&
                                    is_word_byte(static_cast<unsigned char>(text[i + 1]));
        if (!is_word_byte(d) && !joining_hyphen) break;
        word += static_cast<char>(std::tolower(d));
        ++i;
      }
      if (word.find('-') == std::string::npos || ids_.count(word) != 0) {
        words.push_back(std::move(word));
      } else {
        for (std::size_t start = 0; start <= word.size();) {
          const std::size_t hyphen = std::min(word.find('-', start), word.size());
          words.push_back(word.substr(start, hyphen - start));
          start = hyphen + 1;
        }
      }
    } else {
      words.emplace_back(1, static_cast<char>(c));
      ++i;
    }
  }
  return words;
}

std::vector<std::int64_t> WordTokenizer::encode(std::string_view text) const {
  std::vector<std::int64_t> ids = {id(SpecialToken::kBos)};
  for (const std::string& word : split(text)) {
    const auto it = ids_.find(word);
    if (it != ids_.end()) {
      ids.push_back(it->second);
      continue;
    }
    ids.push_back(id(SpecialToken::kUnk));
  }
  ids.push_back(id(SpecialToken::kEos));
  return ids;
}

TokenizedBatch WordTokenizer::encode_batch(const std::vector<std::string>& texts,
                                           std::int64_t max_length,
                                           UnknownWordWarning warning) const {
  if (max_length < 2) {
    throw std::invalid_argument(
        fmt::format("tokenizer: max_length {} must be >= 2 (room for <bos> and <eos>)", max_length));
  }
  const auto batch = static_cast<std::int64_t>(texts.size());
  at::Tensor ids = at::full({batch, max_length}, id(SpecialToken::kPad), at::kLong);
  at::Tensor mask = at::zeros({batch, max_length}, at::kBool);
  auto ids_view = ids.accessor<std::int64_t, 2>();
  auto mask_view = mask.accessor<bool, 2>();
  for (std::int64_t b = 0; b < batch; ++b) {
    std::vector<std::int64_t> sequence = encode(texts[b]);
    const std::vector<std::string> unknown =
        warning == UnknownWordWarning::kWarn ? unknown_words(texts[b]) : std::vector<std::string>{};
    if (!unknown.empty()) {
      spdlog::warn("tokenizer: {} word{} of the prompt not in the vocabulary ({}), read as <unk>: {}",
                   unknown.size(), unknown.size() == 1 ? "" : "s", source_, quote_words(unknown));
    }
    if (static_cast<std::int64_t>(sequence.size()) > max_length) {
      spdlog::warn("tokenizer: a prompt of {} words; only the first {} fit in {} tokens",
                   sequence.size() - 2, max_length - 2, max_length);
      sequence.resize(max_length - 1);
      sequence.push_back(id(SpecialToken::kEos));
    }
    for (std::size_t t = 0; t < sequence.size(); ++t) {
      ids_view[b][t] = sequence[t];
      mask_view[b][t] = true;
    }
  }
  return {ids, mask};
}

std::vector<std::string> WordTokenizer::unknown_words(std::string_view text) const {
  std::vector<std::string> unknown;
  for (const std::string& word : split(text)) {
    if (ids_.count(word) == 0 && std::find(unknown.begin(), unknown.end(), word) == unknown.end()) {
      unknown.push_back(word);
    }
  }
  return unknown;
}

std::string WordTokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::string text;
  for (std::int64_t token_id : ids) {
    if (token_id == id(SpecialToken::kPad)) continue;
    if (!text.empty()) text += ' ';
    text += token(token_id);
  }
  return text;
}

std::int64_t WordTokenizer::vocab_size() const { return static_cast<std::int64_t>(tokens_.size()); }

std::optional<std::int64_t> WordTokenizer::id_of(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

const std::string& WordTokenizer::token(std::int64_t token_id) const {
  if (token_id < 0 || token_id >= vocab_size()) {
    throw std::out_of_range(
        fmt::format("tokenizer: id {} is outside the vocabulary of {} tokens", token_id, vocab_size()));
  }
  return tokens_[static_cast<std::size_t>(token_id)];
}

std::string quote_words(const std::vector<std::string>& words, std::size_t at_most) {
  std::string out;
  const std::size_t named = std::min(words.size(), at_most);
  for (std::size_t i = 0; i < named; ++i) out += (i == 0 ? "'" : ", '") + words[i] + "'";
  if (words.size() > named) out += fmt::format(" and {} more", words.size() - named);
  return out;
}

}  // namespace sagegen::text
