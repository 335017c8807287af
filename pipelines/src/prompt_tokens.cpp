#include "prompt_tokens.h"

#include <fmt/format.h>

#include "sagegen/errors.h"

namespace sagegen {

std::unique_ptr<PromptTokenizer> PromptTokenizer::load(const std::string& vocab_path) {
  // The word-level tokenizer (sagegen/text/tokenizer.h) has not landed yet.
  throw ConfigError(fmt::format("{}: the word-level tokenizer is not implemented yet",
                                vocab_path));
}

}  // namespace sagegen
