#include "sagegen/compare/result.h"

namespace sagegen::compare {

std::string to_string(CompareEntry::Kind kind) {
  switch (kind) {
    case CompareEntry::Kind::kReference: return "reference";
    case CompareEntry::Kind::kVariant: return "variant";
    case CompareEntry::Kind::kTable: return "table";
  }
  return "?";
}

}  // namespace sagegen::compare
