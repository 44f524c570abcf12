// SPDX-License-Identifier: Apache-2.0
#include "core/uuid.hpp"

#include <cstdint>
#include <random>

namespace catchup {

std::string random_uuid() {
  // One generator per thread, seeded from the OS: ids from different
  // threads and processes do not collide in practice (122 random bits).
  thread_local std::mt19937_64 bits{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64{seq};
  }()};
  std::uint64_t hi = bits();
  std::uint64_t lo = bits();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                       // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; // RFC 4122
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t pos = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23)
        ++pos;
      out[pos++] = hex[(v >> (4 * i)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

bool is_uuid_text(std::string_view s) noexcept {
  if (s.size() != 36)
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
               || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex)
      return false;
  }
  return true;
}

} // namespace catchup
