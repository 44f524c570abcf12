// SPDX-License-Identifier: Apache-2.0
#pragma once

// Helpers of the free slot tests (core: any zone rules; adapters: the tz
// database's zones): instants written as UTC dates, slots shown as text so
// that a failure shows which slot differs, and the windows and rules the
// cases share.

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/free_slots.hpp"

namespace catchup::test {

inline constexpr std::int64_t minute = 60;
inline constexpr std::int64_t hour = 3600;
inline constexpr std::int64_t day = seconds_per_day;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days_from_civil), so that instants can be written as dates.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m,
                                       unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// The instant of a UTC date and time.
constexpr unix_seconds utc(int y, unsigned mo, unsigned d, int h, int mi,
                           int s = 0) {
  return days_from_civil(y, mo, d) * day + h * hour + mi * minute + s;
}

static_assert(utc(2026, 3, 2, 0, 0) == 1772409600, "checked with date -u");
static_assert(utc(1970, 1, 1, 0, 0) == 0, "the epoch");

/// "2026-03-02 18:00 +60": a slot's UTC start and its length in minutes.
inline std::string show(const time_slot& s) {
  auto days = s.start >= 0 ? s.start / day : (s.start - day + 1) / day;
  auto second_of_day = s.start - days * day;
  // Howard Hinnant's civil_from_days.
  auto z = days + 719468;
  auto era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = z - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto d = doy - (153 * mp + 2) / 5 + 1;
  auto m = mp < 10 ? mp + 3 : mp - 9;
  auto y = yoe + era * 400 + (m <= 2);
  char text[80];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lld %02lld:%02lld",
                static_cast<long long>(y), static_cast<long long>(m),
                static_cast<long long>(d),
                static_cast<long long>(second_of_day / hour),
                static_cast<long long>(second_of_day % hour / minute));
  std::string out = text;
  if (second_of_day % minute != 0)
    out += ":" + std::to_string(second_of_day % minute);
  auto length = s.end - s.start;
  out += " +" + std::to_string(length / minute);
  if (length % minute != 0)
    out += "m" + std::to_string(length % minute) + "s";
  return out;
}

inline std::vector<std::string> show(const std::vector<time_slot>& slots) {
  std::vector<std::string> out;
  for (const auto& s : slots)
    out.push_back(show(s));
  return out;
}

using texts = std::vector<std::string>;

/// Every day of the week, from `start` to `end` local minutes.
inline std::vector<availability_window> daily(int start, int end) {
  std::vector<availability_window> windows;
  for (int weekday = 1; weekday <= 7; ++weekday)
    windows.push_back({weekday, start, end});
  return windows;
}

inline slot_rules rules_for(std::int64_t window_days,
                            std::int64_t slots_per_day_max = 2) {
  slot_rules rules;
  rules.window_days = window_days;
  rules.slots_per_day_max = slots_per_day_max;
  return rules;
}

/// A predicate for BOOST_CHECK_EXCEPTION: the message mentions `part`.
inline auto mentions(std::string part) {
  return [part](const std::invalid_argument& e) {
    return std::string(e.what()).find(part) != std::string::npos;
  };
}

/// 2026-03-02, a Monday, at noon UTC.
inline constexpr unix_seconds monday_noon = utc(2026, 3, 2, 12, 0);

} // namespace catchup::test
