// The pipeline's view of the word-level tokenizer (sagegen/text/tokenizer.h, owned by the IO
// part): load from the model's vocabulary, count the vocabulary, turn a prompt into ids.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sagegen {

class PromptTokenizer {
 public:
  static std::unique_ptr<PromptTokenizer> load(const std::string& vocab_path);
  virtual ~PromptTokenizer() = default;
  virtual std::int64_t vocab_size() const = 0;
  // Unknown words map to <unk> (the tokenizer warns once per word).
  virtual std::vector<std::int64_t> encode(const std::string& prompt) const = 0;
};

}  // namespace sagegen
