// One field of a CSV row, for the files compare and eval write (written by io::write_text_file).
#pragma once

#include <string>

namespace sagegen::cli {

// RFC 4180: quoted when it holds a comma, quote or line break, its quotes doubled; unchanged
// otherwise.
std::string csv_field(const std::string& text);

}  // namespace sagegen::cli
