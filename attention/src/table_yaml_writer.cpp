// PrecisionTable as YAML: the text that PrecisionTable::load_string reads back to the same
// decisions (schema: docs/tables.md), and saving it to a file.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sageattn/table.h"
#include "table_text.h"

namespace sageattn {
namespace {

using table_text::quoted;
using table_text::span_text;

std::string span_yaml(const IndexSpan& span) {
  const std::string text = span_text(span);
  return table_text::span_is_single(span) ? text : quoted(text);
}

// Double-quoted YAML scalar: safe for any text a calibrator may put in a comment.
std::string yaml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Model names are usually identifiers ("sagegen-tiny"); anything else is quoted so that YAML
// reads back the same string (not a number, bool or null).
std::string yaml_name(std::string_view name) {
  bool plain = !name.empty() && std::isalpha(static_cast<unsigned char>(name.front()));
  for (char c : name) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                      c == '.' || c == '/');
  }
  for (std::string_view word :
       {"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
        "yes",  "Yes",  "YES",  "no",   "No",   "NO",   "on",    "On",    "ON",
        "off",  "Off",  "OFF",  "y",    "Y",    "n",    "N"}) {
    plain = plain && name != word;
  }
  return plain ? std::string(name) : yaml_string(name);
}

std::string index_set_yaml(const IndexSet& set) {
  if (set.is_all()) return "all";
  const auto& spans = set.spans();
  if (spans.size() == 1 && !set.written_as_list()) return span_yaml(spans.front());
  std::string out = "[";
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out += ", ";
    out += span_yaml(spans[i]);
  }
  return out + "]";
}

}  // namespace

std::string PrecisionTable::to_yaml(std::string_view header) const {
  std::ostringstream out;
  std::istringstream header_lines{std::string(header)};
  for (std::string line; std::getline(header_lines, line);) {
    out << (line.empty() ? "#" : "# " + line) << "\n";
  }
  out << "# sagegen adaptive precision table (schema: docs/tables.md).\n"
      << "# For each (layer, step) the first matching rule wins, else the default. Lists are\n"
      << "# sets of items ([0, 2] is {0, 2}); \"a-b\" is an inclusive range, \"a-\" is open.\n"
      << "model: " << yaml_name(model_) << "\n"
      << "default: " << to_string(default_) << "\n";
  if (rules_.empty()) {
    out << "rules: []\n";
    return out.str();
  }
  out << "rules:\n";
  for (const auto& rule : rules_) {
    out << "  - {layers: " << index_set_yaml(rule.layers)
        << ", steps: " << index_set_yaml(rule.steps) << ", variant: " << to_string(rule.variant);
    if (!rule.comment.empty()) out << ", comment: " << yaml_string(rule.comment);
    out << "}\n";
  }
  return out.str();
}

void PrecisionTable::save(const std::string& path, std::string_view header) const {
  const std::string text = to_yaml(header);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw TableError({path}, "",
                     std::string("cannot write the table file: ") + std::strerror(errno));
  }
  out << text;
  out.flush();
  if (!out) {
    throw TableError({path}, "",
                     std::string("writing the table file failed: ") + std::strerror(errno));
  }
}

}  // namespace sageattn
