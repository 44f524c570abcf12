// SPDX-License-Identifier: Apache-2.0
#include "core/utf8.hpp"

namespace catchup {

std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80)
    return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi)
    return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
      return 0;
  return n;
}

std::size_t invalid_utf8_at(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(s, i);
    if (n == 0)
      return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string printable_excerpt(std::string_view line, std::size_t bytes_max) {
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    std::size_t n = utf8_length(line, i);
    const unsigned char c = static_cast<unsigned char>(line[i]);
    const bool control = n == 1 && (c < 0x20 || c == 0x7F);
    if (n == 0 || control) {
      if (out.size() + 1 > bytes_max)
        break;
      out += '?';
      i += 1;
      continue;
    }
    if (out.size() + n > bytes_max)
      break;
    out.append(line.substr(i, n));
    i += n;
  }
  return out;
}

} // namespace catchup
