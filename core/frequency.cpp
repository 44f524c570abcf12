// SPDX-License-Identifier: Apache-2.0
#include "core/frequency.hpp"

namespace catchup {

std::string_view to_string(frequency f) noexcept {
  switch (f) {
    case frequency::daily: return "daily";
    case frequency::weekly: return "weekly";
    case frequency::biweekly: return "biweekly";
    case frequency::monthly: return "monthly";
    case frequency::quarterly: return "quarterly";
    case frequency::yearly: return "yearly";
    case frequency::flexible: return "flexible";
    case frequency::na: return "na";
  }
  return "monthly";
}

std::optional<frequency> parse_frequency(std::string_view text) noexcept {
  for (auto f : all_frequencies)
    if (to_string(f) == text)
      return f;
  return std::nullopt;
}

} // namespace catchup
