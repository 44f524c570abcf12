// SPDX-License-Identifier: Apache-2.0
#include "core/contact_date.hpp"

namespace catchup {

namespace {

/// Apple Contacts writes a year-less birthday as this year.
constexpr int apple_no_year = 1604;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

/// The number in `text`, which must be all digits (at most 4).
std::optional<int> digits_of(std::string_view text) noexcept {
  if (text.empty() || text.size() > 4)
    return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (!is_digit(c))
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

} // namespace

const char* to_string(contact_date_kind kind) noexcept {
  return kind == contact_date_kind::birthday ? "birthday" : "anniversary";
}

std::optional<contact_date_kind> contact_date_kind_of(std::string_view text) {
  if (text == "birthday")
    return contact_date_kind::birthday;
  if (text == "anniversary")
    return contact_date_kind::anniversary;
  return std::nullopt;
}

bool is_leap_year(std::int64_t year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) noexcept {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap_year(year))
    return 29;
  return days[month - 1];
}

bool valid_month_day(int month, int day) noexcept {
  // 2000 is a leap year: every day a month can have exists in it.
  return month >= 1 && month <= 12 && day >= 1
         && day <= days_in_month(2000, month);
}

std::optional<std::string> contact_date_problem(const contact_date& date) {
  if (date.month < 1 || date.month > 12)
    return "month " + std::to_string(date.month) + " is not 1 to 12";
  if (!valid_month_day(date.month, date.day))
    return "day " + std::to_string(date.day) + " is not a day of month "
           + std::to_string(date.month);
  if (date.year) {
    if (*date.year < 1 || *date.year > 9999)
      return "year " + std::to_string(*date.year) + " is not 1 to 9999";
    if (date.day > days_in_month(*date.year, date.month))
      return "day " + std::to_string(date.day) + " is not a day of "
             + std::to_string(*date.year) + "-"
             + std::to_string(date.month);
  }
  return std::nullopt;
}

std::optional<std::string> parse_iso_contact_date(std::string_view text,
                                                  contact_date_kind kind,
                                                  contact_date& out) {
  // The date part ends at a time part ("T..."), which a date-time BDAY has.
  const auto t = text.find_first_of("Tt");
  std::string_view date = text.substr(0, t);
  if (t != std::string_view::npos && date.empty())
    return "no date before the time";
  contact_date parsed;
  parsed.kind = kind;
  std::optional<int> year, month, day;
  if (date.substr(0, 2) == "--") {
    // Year-less: "--MMDD" or "--MM-DD". ("--MM" alone has no day.)
    date.remove_prefix(2);
    if (date.size() == 4) {
      month = digits_of(date.substr(0, 2));
      day = digits_of(date.substr(2, 2));
    } else if (date.size() == 5 && date[2] == '-') {
      month = digits_of(date.substr(0, 2));
      day = digits_of(date.substr(3, 2));
    }
  } else if (date.size() == 8) {
    year = digits_of(date.substr(0, 4));
    month = digits_of(date.substr(4, 2));
    day = digits_of(date.substr(6, 2));
  } else if (date.size() == 10 && date[4] == '-' && date[7] == '-') {
    year = digits_of(date.substr(0, 4));
    month = digits_of(date.substr(5, 2));
    day = digits_of(date.substr(8, 2));
  } else {
    return std::string{"not a date with a month and day (YYYY-MM-DD, "
                       "YYYYMMDD, --MM-DD or --MMDD)"};
  }
  if (!month || !day || (date.size() >= 8 && !year))
    return std::string{"not a date (digits expected)"};
  parsed.month = *month;
  parsed.day = *day;
  if (year && *year != apple_no_year)
    parsed.year = *year;
  if (auto why = contact_date_problem(parsed))
    return why;
  // Apple's placeholder year still has to allow the day it carries.
  if (year && *year == apple_no_year && !valid_month_day(*month, *day))
    return "day " + std::to_string(*day) + " is not a day of month "
           + std::to_string(*month);
  out = parsed;
  return std::nullopt;
}

// H. Hinnant's days_from_civil and civil_from_days.
std::int64_t days_from_civil(const civil_day& d) noexcept {
  const std::int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy
    = (153 * (d.month > 2 ? d.month - 3 : d.month + 9) + 2) / 5 + d.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

civil_day civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe
    = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

civil_day occurrence_in(std::int64_t year, int month, int day) noexcept {
  if (month == 2 && day == 29 && !is_leap_year(year))
    return {year, 2, 28};
  return {year, month, day};
}

civil_day next_occurrence(const civil_day& today, int month,
                          int day) noexcept {
  const civil_day this_year = occurrence_in(today.year, month, day);
  if (days_from_civil(this_year) >= days_from_civil(today))
    return this_year;
  return occurrence_in(today.year + 1, month, day);
}

} // namespace catchup
