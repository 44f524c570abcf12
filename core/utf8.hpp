// SPDX-License-Identifier: Apache-2.0
#pragma once

// UTF-8 checks, printable excerpts and blank trimming shared by the import
// readers (vCard, CSV): every bad item is reported with a short excerpt that is safe to
// print, and every value that enters the database is well-formed UTF-8.

#include <cstddef>
#include <string>
#include <string_view>

namespace catchup {

/// The length of the well-formed UTF-8 sequence at `i`, or 0: overlong
/// forms, surrogates and code points past U+10FFFF are not well formed.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept;

/// The offset of the first byte that is not well-formed UTF-8, or npos.
std::size_t invalid_utf8_at(std::string_view s) noexcept;

/// True when all of `s` is well-formed UTF-8.
inline bool valid_utf8(std::string_view s) noexcept {
  return invalid_utf8_at(s) == std::string_view::npos;
}

/// At most `bytes_max` bytes of `line`, whole characters only; controls and
/// invalid bytes become '?', so the excerpt is safe to print in an error.
std::string printable_excerpt(std::string_view line,
                              std::size_t bytes_max = 60);

namespace text {

/// Space, tab, CR or LF: what the import formats allow around values.
inline bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/// `s` without leading and trailing blanks.
inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

} // namespace text

} // namespace catchup
