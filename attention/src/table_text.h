// Text pieces that the table model, its YAML reader and its YAML writer all spell the same
// way: error keys ("rules[2].steps[1]") and spans as written ("10-19", "20-").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sageattn/table.h"

namespace sageattn::table_text {

inline std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// "rules[2]" (empty field) or "rules[2].steps".
inline std::string rule_key(std::size_t rule_index, std::string_view field) {
  return "rules[" + std::to_string(rule_index) + "]" + (field.empty() ? "" : ".") +
         std::string(field);
}

// A run [first, last] as written: 3, 10-19 or 20- (unquoted; no last: open).
inline std::string run_text(int first, std::optional<int> last) {
  if (!last) return std::to_string(first) + "-";
  if (*last == first) return std::to_string(first);
  return std::to_string(first) + "-" + std::to_string(*last);
}

// How a span is written (unquoted): 3, 10-19, 20-, or by name blocks.3, blocks.10-19.attn1,
// blocks.5-.attn2, blocks.* (every block: an open run from block 0).
inline std::string span_text(const IndexSpan& span) {
  if (span.form == SpanForm::kIndices) return run_text(span.first, span.last);
  const int first_block = block_of_layer(span.first);
  std::optional<int> last_block;
  if (span.last) last_block = block_of_layer(*span.last);
  const std::string blocks =
      (!last_block && first_block == 0) ? "*" : run_text(first_block, last_block);
  switch (span.form) {
    case SpanForm::kSelfAttention: return "blocks." + blocks + ".attn1";
    case SpanForm::kCrossAttention: return "blocks." + blocks + ".attn2";
    default: return "blocks." + blocks;
  }
}

// "blocks.3.attn1" and other names without a range are plain YAML; ranges, open runs and "*"
// are quoted, as numeric ranges are.
inline bool span_is_single(const IndexSpan& span) {
  if (!span.last) return false;
  if (span.form == SpanForm::kBlocks) return block_of_layer(span.first) == block_of_layer(*span.last);
  return *span.last == span.first;
}

// The error's key for span j of a set: "rules[2].steps" or, inside a list, "rules[2].steps[1]".
inline std::string span_key(const IndexSet& set, std::size_t rule_index, std::string_view field,
                            std::size_t span_index) {
  std::string key = rule_key(rule_index, field);
  if (set.written_as_list()) key += "[" + std::to_string(span_index) + "]";
  return key;
}

}  // namespace sageattn::table_text
