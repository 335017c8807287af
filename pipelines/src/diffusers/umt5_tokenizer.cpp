#include "sagegen/diffusers/umt5_tokenizer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#if SAGEGEN_WITH_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "sagegen/diffusers/json_config.h"
#include "sagegen/diffusers/wan_prompt_clean.h"
#include "sagegen/errors.h"

namespace sagegen::diffusers {

#if SAGEGEN_WITH_SENTENCEPIECE
namespace {

// A special token in tokenizer_config.json: a string, or (older files) an AddedToken object.
std::string token_text(JsonConfig& config, const std::string& key, const std::string& fallback) {
  if (!config.has(key)) return fallback;
  const nlohmann::json& value = config.value(key);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  config.fail(key, "expected a token string or an object with \"content\"");
}

std::int64_t piece_id(const sentencepiece::SentencePieceProcessor& processor, JsonConfig& config,
                      const std::string& key, const std::string& piece) {
  const int id = processor.PieceToId(piece);
  // PieceToId answers unk_id for a piece it does not have.
  if (id == processor.unk_id() && piece != processor.IdToPiece(id)) {
    config.fail(key, fmt::format("\"{}\" is not a piece of spiece.model", piece));
  }
  return id;
}

}  // namespace

Umt5Tokenizer::~Umt5Tokenizer() = default;
Umt5Tokenizer::Umt5Tokenizer(Umt5Tokenizer&&) noexcept = default;
Umt5Tokenizer& Umt5Tokenizer::operator=(Umt5Tokenizer&&) noexcept = default;

Umt5Tokenizer Umt5Tokenizer::load(const std::filesystem::path& dir) {
  const std::filesystem::path model = dir / "spiece.model";
  std::error_code error;
  if (!std::filesystem::is_regular_file(model, error)) {
    throw ConfigError(
        fmt::format("{}: no spiece.model (the umT5 sentencepiece model; sagegen reads it, not "
                    "tokenizer.json)",
                    dir.string()));
  }
  Umt5Tokenizer tokenizer;
  tokenizer.processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = tokenizer.processor_->Load(model.string());
  if (!status.ok()) {
    throw ConfigError(
        fmt::format("{}: not a sentencepiece model: {}", model.string(), status.ToString()));
  }
  // Keys that change the ids are read; the rest (added_tokens_decoder, model_max_length: the
  // pipeline passes its own max_length, extra_ids: sentinels no prompt text produces) are not.
  JsonConfig config = JsonConfig::load(dir / "tokenizer_config.json");
  config.one_of("tokenizer_class", {"T5Tokenizer", "T5TokenizerFast"}, "T5Tokenizer");
  config.one_of("padding_side", {"right"}, "right");
  config.one_of("truncation_side", {"right"}, "right");
  if (config.has("do_lower_case") && config.boolean("do_lower_case")) {
    config.fail("do_lower_case", "true is not supported (umT5 does not lower-case)");
  }
  tokenizer.eos_id_ =
      piece_id(*tokenizer.processor_, config, "eos_token", token_text(config, "eos_token", "</s>"));
  tokenizer.pad_id_ = piece_id(*tokenizer.processor_, config, "pad_token",
                               token_text(config, "pad_token", "<pad>"));
  tokenizer.unk_id_ = piece_id(*tokenizer.processor_, config, "unk_token",
                               token_text(config, "unk_token", "<unk>"));
  std::map<std::string, std::int64_t> added = {
      {token_text(config, "eos_token", "</s>"), tokenizer.eos_id_},
      {token_text(config, "pad_token", "<pad>"), tokenizer.pad_id_},
      {token_text(config, "unk_token", "<unk>"), tokenizer.unk_id_}};
  if (config.has("added_tokens_decoder")) {
    const nlohmann::json& decoder = config.value("added_tokens_decoder");
    if (!decoder.is_object()) config.fail("added_tokens_decoder", "expected an object id -> token");
    for (const auto& item : decoder.items()) {
      const nlohmann::json& token = item.value();
      if (!token.is_object() || !token.contains("content") || !token["content"].is_string()) {
        config.fail("added_tokens_decoder", fmt::format("entry {}: no \"content\"", item.key()));
      }
      try {
        added[token["content"].get<std::string>()] = std::stoll(item.key());
      } catch (const std::exception&) {
        config.fail("added_tokens_decoder", fmt::format("\"{}\" is not a token id", item.key()));
      }
    }
  }
  tokenizer.added_tokens_.assign(added.begin(), added.end());
  std::stable_sort(tokenizer.added_tokens_.begin(), tokenizer.added_tokens_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return tokenizer;
}

void Umt5Tokenizer::encode_text(const std::string& text, std::vector<std::int64_t>& ids) const {
  std::vector<int> pieces;
  const auto status = processor_->Encode(text, &pieces);
  TORCH_CHECK(status.ok(), "sentencepiece could not encode the prompt: ", status.ToString());
  bool in_unknown_run = false;
  for (const int id : pieces) {
    // sentencepiece's byte fallback spells an unknown run as its UTF-8 bytes after segmenting;
    // transformers has no byte fallback and keeps the run as one <unk>.
    if (processor_->IsByte(id)) {
      if (!in_unknown_run) ids.push_back(unk_id_);
      in_unknown_run = true;
      continue;
    }
    in_unknown_run = false;
    ids.push_back(id);
  }
}

std::vector<std::int64_t> Umt5Tokenizer::encode(const std::string& text, int max_length) const {
  TORCH_CHECK(max_length >= 1, "Umt5Tokenizer::encode: max_length must be >= 1, got ", max_length);
  std::vector<std::int64_t> ids;
  std::size_t start = 0;
  while (start < text.size()) {
    // The earliest added token from `start` (the longest where several start there).
    std::size_t found = std::string::npos;
    const std::pair<std::string, std::int64_t>* token = nullptr;
    for (const auto& candidate : added_tokens_) {
      const std::size_t at = text.find(candidate.first, start);
      if (at < found) found = at, token = &candidate;
    }
    encode_text(text.substr(start, found == std::string::npos ? std::string::npos : found - start),
                ids);
    if (token == nullptr) break;
    ids.push_back(token->second);
    start = found + token->first.size();
  }
  if (static_cast<int>(ids.size()) > max_length - 1) ids.resize(max_length - 1);
  ids.push_back(eos_id_);
  return ids;
}

TokenizedPrompts Umt5Tokenizer::encode_prompts(const std::vector<std::string>& prompts,
                                               int max_length) const {
  const auto batch = static_cast<std::int64_t>(prompts.size());
  TokenizedPrompts out{at::full({batch, max_length}, pad_id_, at::kLong),
                       at::zeros({batch, max_length}, at::kLong)};
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::vector<std::int64_t> ids = encode(wan_prompt_clean(prompts[b]), max_length);
    const auto length = static_cast<std::int64_t>(ids.size());
    out.ids[b].slice(0, 0, length).copy_(at::tensor(ids, at::kLong));
    out.mask[b].slice(0, 0, length).fill_(1);
  }
  return out;
}

int Umt5Tokenizer::vocab_size() const {
  std::int64_t size = processor_->GetPieceSize();
  for (const auto& token : added_tokens_) size = std::max(size, token.second + 1);
  return static_cast<int>(size);
}

#else  // a build without sentencepiece (-DSAGEGEN_SENTENCEPIECE=OFF)
}  // namespace sagegen::diffusers

// Never constructed: completes the type the unique_ptr member names.
namespace sentencepiece {
class SentencePieceProcessor {};
}  // namespace sentencepiece

namespace sagegen::diffusers {

Umt5Tokenizer::~Umt5Tokenizer() = default;
Umt5Tokenizer::Umt5Tokenizer(Umt5Tokenizer&&) noexcept = default;
Umt5Tokenizer& Umt5Tokenizer::operator=(Umt5Tokenizer&&) noexcept = default;

Umt5Tokenizer Umt5Tokenizer::load(const std::filesystem::path& dir) {
  throw ConfigError(fmt::format(
      "{}: this sagegen was built without sentencepiece (-DSAGEGEN_SENTENCEPIECE=OFF), which "
      "umT5's tokenizer needs; rebuild with libsentencepiece-dev or "
      "-DSAGEGEN_SENTENCEPIECE_ROOT (docs/dependencies.md)",
      dir.string()));
}

std::vector<std::int64_t> Umt5Tokenizer::encode(const std::string&, int) const {
  TORCH_CHECK(false, "Umt5Tokenizer: built without sentencepiece");
}

TokenizedPrompts Umt5Tokenizer::encode_prompts(const std::vector<std::string>&, int) const {
  TORCH_CHECK(false, "Umt5Tokenizer: built without sentencepiece");
}

int Umt5Tokenizer::vocab_size() const { return 0; }

#endif

}  // namespace sagegen::diffusers
