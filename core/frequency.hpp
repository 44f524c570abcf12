// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace catchup {

/// How often a user wants to catch up with a contact.
///
/// The enumerator values are stable: they are stored in PostgreSQL (as the
/// `frequency_option` enum's labels) and sent between nodes.
enum class frequency : std::uint8_t {
  daily = 0,
  weekly = 1,
  biweekly = 2,
  monthly = 3,
  quarterly = 4,
  yearly = 5,
  flexible = 6,
  na = 7,
};

/// All frequency classes, in enumerator order.
inline constexpr std::array<frequency, 8> all_frequencies = {
  frequency::daily,     frequency::weekly, frequency::biweekly,
  frequency::monthly,   frequency::quarterly, frequency::yearly,
  frequency::flexible,  frequency::na,
};

/// The class used when a contact has no preference.
inline constexpr frequency default_frequency = frequency::monthly;

/// Days after the last contact at which a contact of class `f` becomes due.
constexpr std::int64_t threshold_days(frequency f) noexcept {
  switch (f) {
    case frequency::daily: return 1;
    case frequency::weekly: return 7;
    case frequency::biweekly: return 14;
    case frequency::monthly: return 30;
    case frequency::quarterly: return 90;
    case frequency::yearly: return 365;
    case frequency::flexible: return 60;
    case frequency::na: return 365;
  }
  return 30;
}

/// The label used in SQL, configuration and messages ("weekly").
std::string_view to_string(frequency f) noexcept;

/// Parses a label produced by `to_string`; empty on anything else.
std::optional<frequency> parse_frequency(std::string_view text) noexcept;

} // namespace catchup
