// WanPipeline's prompt_clean: what diffusers does to a prompt before its tokenizer sees it
// (ftfy.fix_text when ftfy is installed, html.unescape twice, strip, every run of Unicode
// whitespace to one space, strip).
#pragma once

#include <string>

namespace sagegen::diffusers {

// `text` is UTF-8 (invalid sequences become U+FFFD). Of ftfy's fixes this does the ones a typed
// prompt meets: HTML entities unescaped until nothing changes when the text has no '<' (ftfy's
// "auto"), curly quotes straightened, control characters other than whitespace removed, Latin
// ligatures and full-width ASCII folded. Not reproduced: ftfy's NFC composition and half-width
// katakana folding (the tokenizer's NFKC does both, so the ids agree), its mojibake repair
// ("Ã©" stays), and HTML entity names other than amp, lt, gt, quot, apos and nbsp (they stay as
// text); numeric entities are all decoded.
std::string wan_prompt_clean(const std::string& text);

}  // namespace sagegen::diffusers
