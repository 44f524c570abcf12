// SPDX-License-Identifier: Apache-2.0
#pragma once

// A contact's birthday or anniversary as imports read it (a month and a
// day, the year when known), the date forms the readers accept, and when
// such a date next falls. Shared by the vCard, CSV and Google readers, the
// store and the upcoming-dates query, so every path agrees on what a valid
// date is.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace catchup {

enum class contact_date_kind { birthday, anniversary };

/// "birthday" or "anniversary", as stored.
const char* to_string(contact_date_kind kind) noexcept;

/// The kind named `text` ("birthday", "anniversary"), or none.
std::optional<contact_date_kind> contact_date_kind_of(std::string_view text);

/// A yearly date. Feb 29 is valid: in a year without it, the date falls on
/// Feb 28.
struct contact_date {
  contact_date_kind kind = contact_date_kind::birthday;
  /// 1..12.
  int month = 0;
  /// 1..31, within the month (Feb 29 allowed).
  int day = 0;
  /// 1..9999, or none when the source gave no year.
  std::optional<int> year;
};

bool is_leap_year(std::int64_t year) noexcept;

/// Days in `month` of `year` (1..12).
int days_in_month(std::int64_t year, int month) noexcept;

/// True for a month 1..12 and a day that month can have in some year
/// (Feb 29 included).
bool valid_month_day(int month, int day) noexcept;

/// Checks a date read from any source: `date` valid, and its year, when
/// given, a year of the calendar (1..9999) on which that day exists.
/// @returns why not, or none when it is valid.
std::optional<std::string> contact_date_problem(const contact_date& date);

/// Reads the ISO 8601 forms vCard 3.0 and 4.0 use for BDAY and ANNIVERSARY
/// (and CSV exports copy): "1985-04-12", "19850412", either with a time
/// part ("1985-04-12T00:00:00Z": the date is kept), and the year-less
/// "--0412" and "--04-12". Apple writes year 1604 for "no year", which is
/// read as no year. `kind` is copied into `out`.
/// @returns why the text is not such a date, or none with `out` set.
std::optional<std::string> parse_iso_contact_date(std::string_view text,
                                                  contact_date_kind kind,
                                                  contact_date& out);

/// A civil date on the proleptic Gregorian calendar.
struct civil_day {
  std::int64_t year = 0;
  int month = 1;
  int day = 1;
};

/// Days since 1970-01-01 of `d`, and back.
std::int64_t days_from_civil(const civil_day& d) noexcept;
civil_day civil_from_days(std::int64_t days) noexcept;

/// Where a yearly date falls in `year`: Feb 29 falls on Feb 28 in a year
/// without it.
civil_day occurrence_in(std::int64_t year, int month, int day) noexcept;

/// The first day on or after `today` on which the yearly date
/// (`month`, `day`) falls.
civil_day next_occurrence(const civil_day& today, int month,
                          int day) noexcept;

} // namespace catchup
