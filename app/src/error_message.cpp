#include "error_message.h"

#include <algorithm>

namespace sagegen::cli {

std::string flags_of(const std::vector<FieldValue>& fields) {
  std::string text;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const FieldValue& field = fields[i];
    std::string flag;
    if (field.field == "width" && i + 1 < fields.size() && fields[i + 1].field == "height") {
      flag = "--size " + field.value + "x" + fields[i + 1].value;
      ++i;
    } else {
      std::string name = field.field;
      std::replace(name.begin(), name.end(), '_', '-');
      flag = "--" + name + (field.value.empty() ? "" : " " + field.value);
    }
    text += (text.empty() ? "" : " ") + flag;
  }
  return text;
}

std::string cli_error_message(const std::exception& e) {
  const auto* parts = dynamic_cast<const FieldErrorParts*>(&e);
  if (parts == nullptr || parts->fields().empty()) return e.what();
  return flags_of(parts->fields()) + ": " + parts->detail();
}

}  // namespace sagegen::cli
