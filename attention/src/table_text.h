// Text pieces that the table model, its YAML reader and its YAML writer all spell the same
// way: error keys ("rules[2].steps[1]") and spans as written ("10-19", "20-").
#pragma once

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

// How a span is written: 3, 10-19 or 20- (unquoted).
inline std::string span_text(const IndexSpan& span) {
  if (!span.last) return std::to_string(span.first) + "-";
  if (*span.last == span.first) return std::to_string(span.first);
  return std::to_string(span.first) + "-" + std::to_string(*span.last);
}

// The error's key for span j of a set: "rules[2].steps" or, inside a list, "rules[2].steps[1]".
inline std::string span_key(const IndexSet& set, std::size_t rule_index, std::string_view field,
                            std::size_t span_index) {
  std::string key = rule_key(rule_index, field);
  if (set.written_as_list()) key += "[" + std::to_string(span_index) + "]";
  return key;
}

}  // namespace sageattn::table_text
