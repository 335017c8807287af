#include "sagegen/diffusers/wan_prompt_clean.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace sagegen::diffusers {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

std::u32string decode_utf8(const std::string& text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int length = 0;
    char32_t cp = 0;
    if (byte < 0x80) {
      length = 1, cp = byte;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2, cp = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3, cp = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4, cp = byte & 0x07;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (int k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      cp = (cp << 6) | (next & 0x3F);
    }
    // Overlong forms and surrogates are invalid UTF-8 too.
    constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    valid = valid && cp >= kMinimum[length] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    out.push_back(valid ? cp : kReplacement);
    i += valid ? length : 1;
  }
  return out;
}

std::string encode_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t cp : text) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

// Python's str.isspace(), which the `regex` module's \s matches on str patterns.
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// ftfy's remove_control_chars: C0/C1 controls other than whitespace, and a few format
// characters (byte order mark, interlinear annotation, object replacement, ...).
bool is_removed_control(char32_t c) {
  return (c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
         (c >= 0x80 && c <= 0x84) || (c >= 0x86 && c <= 0x9F) || c == 0x206A || c == 0x206B ||
         c == 0x206C || c == 0x206D || c == 0x206E || c == 0x206F || c == 0xFEFF ||
         (c >= 0xFFF9 && c <= 0xFFFC) || (c >= 0x1D173 && c <= 0x1D17A) ||
         (c >= 0xE0000 && c <= 0xE007F);
}

// ftfy's uncurl_quotes.
char32_t uncurled(char32_t c) {
  if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) return U'\'';
  if (c >= 0x201C && c <= 0x201F) return U'"';
  return c;
}

// ftfy's fix_latin_ligatures and fix_character_width (full-width ASCII and the ideographic
// space; the half-width katakana it also folds are left to the tokenizer's NFKC).
void append_folded(char32_t c, std::u32string& out) {
  static constexpr std::u32string_view kLigatures[] = {U"ff",  U"fi", U"fl", U"ffi",
                                                       U"ffl", U"st", U"st"};  // U+FB00..U+FB06
  if (c >= 0xFB00 && c <= 0xFB06) {
    out += kLigatures[c - 0xFB00];
  } else if (c >= 0xFF01 && c <= 0xFF5E) {
    out.push_back(c - 0xFF01 + 0x21);
  } else if (c == 0x3000) {
    out.push_back(U' ');
  } else {
    out.push_back(c);
  }
}

// Python's html.unescape for numeric references: 0, surrogates and values past U+10FFFF are
// U+FFFD; the C1 range maps through Windows-1252 as HTML5 says.
char32_t numeric_reference(std::uint64_t value) {
  static constexpr char32_t kWindows1252[32] = {
      0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  if (value >= 0x80 && value <= 0x9F) return kWindows1252[value - 0x80];
  if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return kReplacement;
  return static_cast<char32_t>(value);
}

bool is_hex(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// One pass of html.unescape over the entities sagegen knows (see the header).
std::u32string unescape_html_once(const std::u32string& text) {
  struct Named {
    std::u32string_view name;
    char32_t value;
  };
  static constexpr Named kNamed[] = {{U"amp;", U'&'},  {U"lt;", U'<'},    {U"gt;", U'>'},
                                     {U"quot;", U'"'}, {U"apos;", U'\''}, {U"nbsp;", 0xA0}};
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != U'&') {
      out.push_back(text[i++]);
      continue;
    }
    const std::u32string_view rest = std::u32string_view(text).substr(i + 1);
    if (!rest.empty() && rest[0] == U'#') {
      const bool hex = rest.size() > 1 && (rest[1] == U'x' || rest[1] == U'X');
      std::size_t j = hex ? 2 : 1;
      std::uint64_t value = 0;
      const std::size_t first_digit = j;
      while (j < rest.size() && (hex ? is_hex(rest[j]) : (rest[j] >= '0' && rest[j] <= '9'))) {
        const char32_t c = rest[j];
        const int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        value = std::min<std::uint64_t>(value * (hex ? 16 : 10) + digit, 0x110000);
        ++j;
      }
      if (j > first_digit) {  // the ';' is optional, as in html.unescape
        out.push_back(numeric_reference(value));
        i += 1 + j + (j < rest.size() && rest[j] == U';' ? 1 : 0);
        continue;
      }
    }
    bool replaced = false;
    for (const Named& named : kNamed) {
      if (rest.substr(0, named.name.size()) == named.name) {
        out.push_back(named.value);
        i += 1 + named.name.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

}  // namespace

std::string wan_prompt_clean(const std::string& text) {
  std::u32string s = decode_utf8(text);
  // ftfy.fix_text: HTML unescaped to a fixed point unless the text looks like HTML.
  if (s.find(U'<') == std::u32string::npos) {
    for (std::u32string next = unescape_html_once(s); next != s; next = unescape_html_once(s)) {
      s = std::move(next);
    }
  }
  std::u32string fixed;
  fixed.reserve(s.size());
  for (const char32_t c : s) {
    if (!is_removed_control(c)) append_folded(uncurled(c), fixed);
  }
  // html.unescape(html.unescape(text)), then whitespace_clean.
  s = unescape_html_once(unescape_html_once(fixed));
  std::u32string out;
  out.reserve(s.size());
  for (const char32_t c : s) {
    if (!is_space(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != U' ') {
      out.push_back(U' ');
    }
  }
  if (!out.empty() && out.back() == U' ') out.pop_back();
  return encode_utf8(out);
}

}  // namespace sagegen::diffusers
