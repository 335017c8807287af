// The tokenizer/ component of a Wan2.1 diffusers folder: umT5's sentencepiece model
// (spiece.model) run through the sentencepiece library, giving the ids transformers'
// T5Tokenizer gives WanPipeline: the pieces, </s>, truncation and padding to a fixed length.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace sagegen::diffusers {

// ids and mask [B, max_length] int64, as tokenizer(prompts, padding="max_length",
// max_length, truncation=True) returns them: each prompt's pieces, </s>, then <pad> (mask 0).
struct TokenizedPrompts {
  at::Tensor ids;
  at::Tensor mask;
};

class Umt5Tokenizer {
 public:
  // Reads dir/spiece.model and dir/tokenizer_config.json. Errors (ConfigError naming the file
  // and key): no spiece.model or one sentencepiece cannot parse, a tokenizer class other than
  // T5Tokenizer/T5TokenizerFast, eos/pad/unk tokens the model does not have, padding or
  // truncation on the left.
  static Umt5Tokenizer load(const std::filesystem::path& dir);
  ~Umt5Tokenizer();
  Umt5Tokenizer(Umt5Tokenizer&&) noexcept;
  Umt5Tokenizer& operator=(Umt5Tokenizer&&) noexcept;

  // The ids of `text` as given (no prompt cleaning): its pieces, then </s>; at most max_length
  // ids (longer texts lose their last pieces, </s> stays). Characters the vocabulary lacks are
  // one <unk> per run, as in transformers (whose T5Tokenizer, 5.x, has no byte fallback even
  // where the sentencepiece model or tokenizer.json has one). The text of a special or added
  // token (</s>, <pad>, <unk>, tokenizer_config.json's added_tokens_decoder, e.g. umT5's
  // <extra_id_N>) becomes that token, the text between encoded on its own, as transformers
  // splits it.
  std::vector<std::int64_t> encode(const std::string& text, int max_length) const;

  // WanPipeline's tokenization: wan_prompt_clean, encode, padding to max_length.
  TokenizedPrompts encode_prompts(const std::vector<std::string>& prompts, int max_length) const;

  int vocab_size() const;  // one past the largest id encode() can give
  std::int64_t eos_id() const { return eos_id_; }
  std::int64_t pad_id() const { return pad_id_; }

 private:
  Umt5Tokenizer() = default;
  // Pieces of text between added tokens; runs of byte-fallback pieces as one <unk>.
  void encode_text(const std::string& text, std::vector<std::int64_t>& ids) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::int64_t eos_id_ = 1, pad_id_ = 0, unk_id_ = 2;
  std::vector<std::pair<std::string, std::int64_t>> added_tokens_;  // longest text first
};

}  // namespace sagegen::diffusers
