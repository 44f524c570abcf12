// SPDX-License-Identifier: Apache-2.0
// Free slots from weekly availability, busy intervals and a time zone. Each
// case states its expected slots as UTC instants worked out by hand from
// the zone's offsets (including DST changes), written as text so that a
// failure shows which slot differs.

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/free_slots.hpp"

using namespace catchup;

namespace {

constexpr std::int64_t minute = 60;
constexpr std::int64_t hour = 3600;
constexpr std::int64_t day = seconds_per_day;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil), so that instants can be written as dates.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m,
                                       unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The instant of a UTC date and time.
constexpr unix_seconds utc(int y, unsigned mo, unsigned d, int h, int mi,
                           int s = 0) {
  return days_from_civil(y, mo, d) * day + h * hour + mi * minute + s;
}

static_assert(utc(2026, 3, 2, 0, 0) == 1772409600, "checked with date -u");
static_assert(utc(1970, 1, 1, 0, 0) == 0, "the epoch");

// "2026-03-02 18:00 +60": a slot's UTC start and its length in minutes.
std::string show(const time_slot& s) {
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

std::vector<std::string> show(const std::vector<time_slot>& slots) {
  std::vector<std::string> out;
  for (const auto& s : slots)
    out.push_back(show(s));
  return out;
}

using texts = std::vector<std::string>;

// Every day of the week, from `start` to `end` local minutes.
std::vector<availability_window> daily(int start, int end) {
  std::vector<availability_window> windows;
  for (int weekday = 1; weekday <= 7; ++weekday)
    windows.push_back({weekday, start, end});
  return windows;
}

slot_rules rules_for(std::int64_t window_days,
                     std::int64_t slots_per_day_max = 2) {
  slot_rules rules;
  rules.window_days = window_days;
  rules.slots_per_day_max = slots_per_day_max;
  return rules;
}

// A predicate for BOOST_CHECK_EXCEPTION: the message mentions `part`.
auto mentions(std::string part) {
  return [part](const std::invalid_argument& e) {
    return std::string(e.what()).find(part) != std::string::npos;
  };
}

// 2026-03-02, a Monday, at noon UTC.
constexpr unix_seconds monday_noon = utc(2026, 3, 2, 12, 0);

} // namespace

BOOST_AUTO_TEST_SUITE(core_free_slots)

BOOST_AUTO_TEST_CASE(the_test_clock_formats_instants_as_utc) {
  BOOST_TEST(show(time_slot{monday_noon, monday_noon + hour}) ==
             "2026-03-02 12:00 +60");
  BOOST_TEST(show(time_slot{-1, 0}) == "1969-12-31 23:59:59 +0m1s");
}

BOOST_AUTO_TEST_CASE(default_availability_is_weekday_evenings_and_weekends) {
  auto windows = default_availability();
  BOOST_REQUIRE(windows.size() == 7u);
  for (const auto& w : windows) {
    bool weekend = w.weekday >= 6;
    BOOST_TEST(w.start_minute == (weekend ? 10 * 60 : 18 * 60));
    BOOST_TEST(w.end_minute == (weekend ? 20 * 60 : 21 * 60));
  }
  for (int weekday = 1; weekday <= 7; ++weekday)
    BOOST_TEST(windows[weekday - 1].weekday == weekday);
}

BOOST_AUTO_TEST_CASE(default_windows_in_utc_give_two_slots_a_day) {
  auto slots = free_slots("UTC", default_availability(), {}, monday_noon);
  // [Mon 03-02 12:00, Mon 03-16 12:00): 14 days, the 16th's evening is out.
  BOOST_TEST(show(slots) == (texts{
    "2026-03-02 18:00 +60", "2026-03-02 19:00 +60",
    "2026-03-03 18:00 +60", "2026-03-03 19:00 +60",
    "2026-03-04 18:00 +60", "2026-03-04 19:00 +60",
    "2026-03-05 18:00 +60", "2026-03-05 19:00 +60",
    "2026-03-06 18:00 +60", "2026-03-06 19:00 +60",
    "2026-03-07 10:00 +60", "2026-03-07 11:00 +60",
    "2026-03-08 10:00 +60", "2026-03-08 11:00 +60",
    "2026-03-09 18:00 +60", "2026-03-09 19:00 +60",
    "2026-03-10 18:00 +60", "2026-03-10 19:00 +60",
    "2026-03-11 18:00 +60", "2026-03-11 19:00 +60",
    "2026-03-12 18:00 +60", "2026-03-12 19:00 +60",
    "2026-03-13 18:00 +60", "2026-03-13 19:00 +60",
    "2026-03-14 10:00 +60", "2026-03-14 11:00 +60",
    "2026-03-15 10:00 +60", "2026-03-15 11:00 +60",
  }), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_busy_event_splits_the_evening) {
  std::vector<busy_interval> busy{
    {utc(2026, 3, 2, 18, 30), utc(2026, 3, 2, 19, 10)}};
  // 18:00-18:30 is a 30-minute remainder; 19:10 aligns up to 19:15.
  BOOST_TEST(show(free_slots("UTC", default_availability(), busy,
                             monday_noon, rules_for(1))) ==
             (texts{"2026-03-02 18:00 +30", "2026-03-02 19:15 +60"}),
             boost::test_tools::per_element());
  // Without the daily cap, 20:15-21:00 gives a 45-minute slot too.
  BOOST_TEST(show(free_slots("UTC", default_availability(), busy,
                             monday_noon, rules_for(1, 5))) ==
             (texts{"2026-03-02 18:00 +30", "2026-03-02 19:15 +60",
                    "2026-03-02 20:15 +45"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(busy_intervals_may_be_unsorted_and_overlapping) {
  std::vector<busy_interval> busy{
    {utc(2026, 3, 2, 19, 0), utc(2026, 3, 2, 19, 30)},
    {utc(2026, 3, 2, 18, 10), utc(2026, 3, 2, 18, 40)},
    {utc(2026, 3, 2, 18, 20), utc(2026, 3, 2, 19, 5)},
    // Inverted and empty intervals are ignored.
    {utc(2026, 3, 2, 20, 0), utc(2026, 3, 2, 19, 0)},
    {utc(2026, 3, 2, 20, 0), utc(2026, 3, 2, 20, 0)},
  };
  // Busy 18:10-19:30: 18:00-18:10 is too short, then 19:30-21:00.
  BOOST_TEST(show(free_slots("UTC", default_availability(), busy,
                             monday_noon, rules_for(1, 5))) ==
             (texts{"2026-03-02 19:30 +60", "2026-03-02 20:30 +30"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(now_inside_a_window_starts_at_the_next_quarter_hour) {
  // The horizon, Tue 18:07:30, leaves Tuesday 7.5 minutes: too short.
  auto now = utc(2026, 3, 2, 18, 7, 30);
  BOOST_TEST(show(free_slots("UTC", default_availability(), {}, now,
                             rules_for(1, 5))) ==
             (texts{"2026-03-02 18:15 +60", "2026-03-02 19:15 +60",
                    "2026-03-02 20:15 +45"}),
             boost::test_tools::per_element());
  // 20:45-21:00 is too short; Tuesday's evening is cut at 20:40.
  now = utc(2026, 3, 2, 20, 40);
  BOOST_TEST(show(free_slots("UTC", default_availability(), {}, now,
                             rules_for(1, 5))) ==
             (texts{"2026-03-03 18:00 +60", "2026-03-03 19:00 +60",
                    "2026-03-03 20:00 +40"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(windows_of_a_day_that_touch_or_overlap_are_joined) {
  // 18:00-19:00 and 19:00-21:00 form one gap: 90-minute slots run across
  // 19:00 instead of leaving a 60-minute remainder.
  std::vector<availability_window> windows{{1, 19 * 60, 21 * 60},
                                           {1, 18 * 60, 19 * 60},
                                           {1, 18 * 60 + 30, 18 * 60 + 45}};
  auto rules = rules_for(1, 5);
  rules.slot_minutes = 90;
  BOOST_TEST(show(free_slots("UTC", windows, {}, monday_noon, rules)) ==
             (texts{"2026-03-02 18:00 +90", "2026-03-02 19:30 +90"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_daily_cap_applies_to_each_local_day) {
  // Around the clock: the two earliest slots of each day, and a day's gap
  // does not run into the next day.
  BOOST_TEST(show(free_slots("UTC", daily(0, 1440), {},
                             utc(2026, 3, 2, 0, 0), rules_for(3))) ==
             (texts{"2026-03-02 00:00 +60", "2026-03-02 01:00 +60",
                    "2026-03-03 00:00 +60", "2026-03-03 01:00 +60",
                    "2026-03-04 00:00 +60", "2026-03-04 01:00 +60"}),
             boost::test_tools::per_element());
  // Sun 22:30-24:00 and Mon 00:00-01:00 stay two days' gaps.
  std::vector<availability_window> windows{{7, 22 * 60 + 30, 1440},
                                           {1, 0, 60}};
  BOOST_TEST(show(free_slots("UTC", windows, {}, utc(2026, 3, 1, 0, 0),
                             rules_for(2, 5))) ==
             (texts{"2026-03-01 22:30 +60", "2026-03-01 23:30 +30",
                    "2026-03-02 00:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(berlin_evenings_keep_their_wall_clock_across_spring) {
  // Clocks go from 02:00 CET (+1) to 03:00 CEST (+2) on Sun 2026-03-29.
  BOOST_TEST(show(free_slots("Europe/Berlin", daily(18 * 60, 19 * 60), {},
                             utc(2026, 3, 27, 12, 0), rules_for(3))) ==
             (texts{"2026-03-27 17:00 +60", "2026-03-28 17:00 +60",
                    "2026-03-29 16:00 +60"}),
             boost::test_tools::per_element());
  // Sunday 01:00-04:00 lasts two hours that night: 01:00-02:00 CET, then
  // 03:00-04:00 CEST.
  BOOST_TEST(show(free_slots("Europe/Berlin", {{7, 60, 240}}, {},
                             utc(2026, 3, 28, 12, 0), rules_for(2, 5))) ==
             (texts{"2026-03-29 00:00 +60", "2026-03-29 01:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(berlin_evenings_keep_their_wall_clock_across_autumn) {
  // Clocks go from 03:00 CEST (+2) back to 02:00 CET (+1) on Sun 2026-10-25.
  BOOST_TEST(show(free_slots("Europe/Berlin", daily(18 * 60, 19 * 60), {},
                             utc(2026, 10, 23, 12, 0), rules_for(3))) ==
             (texts{"2026-10-23 16:00 +60", "2026-10-24 16:00 +60",
                    "2026-10-25 17:00 +60"}),
             boost::test_tools::per_element());
  // Sunday 01:00-04:00 lasts four hours that night: 01:00 CEST (23:00Z) to
  // 04:00 CET (03:00Z), the hour 02:00-03:00 passing twice.
  BOOST_TEST(show(free_slots("Europe/Berlin", {{7, 60, 240}}, {},
                             utc(2026, 10, 24, 12, 0), rules_for(2, 5))) ==
             (texts{"2026-10-24 23:00 +60", "2026-10-25 00:00 +60",
                    "2026-10-25 01:00 +60", "2026-10-25 02:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(kolkata_evenings_are_at_half_past_noon_utc) {
  // Asia/Kolkata is +05:30 all year: 18:00 local is 12:30Z.
  BOOST_TEST(show(free_slots("Asia/Kolkata", default_availability(), {},
                             utc(2026, 3, 2, 0, 0), rules_for(1))) ==
             (texts{"2026-03-02 12:30 +60", "2026-03-02 13:30 +60"}),
             boost::test_tools::per_element());
  // Alignment is to local time: from 18:10 local (12:40Z), hourly alignment
  // gives 19:00 local, 13:30Z, not 13:00Z. The horizon, Tue 12:40Z, is 18:10
  // local, so Tuesday gives nothing.
  auto rules = rules_for(1, 5);
  rules.align_minutes = 60;
  BOOST_TEST(show(free_slots("Asia/Kolkata", default_availability(), {},
                             utc(2026, 3, 2, 12, 40), rules)) ==
             (texts{"2026-03-02 13:30 +60", "2026-03-02 14:30 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_skipped_local_time_starts_at_the_first_valid_instant) {
  // New York skips 02:00-03:00 on Sun 2026-03-08 (EST -5 to EDT -4).
  // 02:30-04:00 starts at 03:00 EDT, 07:00Z, and ends at 04:00 EDT, 08:00Z.
  auto now = utc(2026, 3, 7, 12, 0);
  BOOST_TEST(show(free_slots("America/New_York", {{7, 150, 240}}, {}, now,
                             rules_for(2, 5))) ==
             (texts{"2026-03-08 07:00 +60"}),
             boost::test_tools::per_element());
  // 02:00-03:00 does not exist that day at all, but does a week later
  // (02:00 EDT is 06:00Z).
  BOOST_TEST(free_slots("America/New_York", {{7, 120, 180}}, {}, now,
                        rules_for(2, 5))
               .empty());
  BOOST_TEST(show(free_slots("America/New_York", {{7, 120, 180}}, {}, now,
                             rules_for(8, 5))) ==
             (texts{"2026-03-15 06:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_repeated_local_time_starts_at_its_earlier_instant) {
  // New York repeats 01:00-02:00 on Sun 2026-11-01 (EDT -4 to EST -5).
  // 01:00-03:00 runs from 01:00 EDT, 05:00Z, to 03:00 EST, 08:00Z.
  BOOST_TEST(show(free_slots("America/New_York", {{7, 60, 180}}, {},
                             utc(2026, 10, 31, 12, 0), rules_for(2, 5))) ==
             (texts{"2026-11-01 05:00 +60", "2026-11-01 06:00 +60",
                    "2026-11-01 07:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_unknown_zone_is_rejected_by_name) {
  BOOST_CHECK_EXCEPTION(free_slots("Mars/Olympus_Mons", default_availability(),
                                   {}, monday_noon),
                        std::invalid_argument, mentions("Mars/Olympus_Mons"));
  BOOST_CHECK_EXCEPTION(free_slots("europe/berlin", {}, {}, monday_noon),
                        std::invalid_argument, mentions("europe/berlin"));
  BOOST_TEST(is_valid_timezone("Europe/Berlin"));
  BOOST_TEST(is_valid_timezone("Asia/Kolkata"));
  BOOST_TEST(is_valid_timezone("UTC"));
  BOOST_TEST(!is_valid_timezone("Mars/Olympus_Mons"));
  BOOST_TEST(!is_valid_timezone("europe/berlin"));
  BOOST_TEST(!is_valid_timezone(""));
  BOOST_TEST(!is_valid_timezone("../../etc/passwd"));
}

BOOST_AUTO_TEST_CASE(an_invalid_window_is_rejected_by_name) {
  for (auto bad : {availability_window{0, 60, 120},
                   availability_window{8, 60, 120},
                   availability_window{3, 120, 120},
                   availability_window{3, 180, 120},
                   availability_window{3, -1, 120},
                   availability_window{3, 60, 1441}}) {
    std::vector<availability_window> windows{{1, 0, 1440}, bad};
    BOOST_CHECK_EXCEPTION(
      free_slots("UTC", windows, {}, monday_noon), std::invalid_argument,
      mentions("windows[1] {weekday " + std::to_string(bad.weekday) +
               ", start_minute " + std::to_string(bad.start_minute) +
               ", end_minute " + std::to_string(bad.end_minute) + "}"));
  }
  // The full day and Sunday are valid.
  BOOST_TEST(free_slots("UTC", {{7, 0, 1440}}, {}, monday_noon).size() == 4u);
}

BOOST_AUTO_TEST_CASE(an_out_of_range_rule_or_now_is_rejected) {
  auto rules = rules_for(14);
  rules.slot_minutes = 0;
  BOOST_CHECK_EXCEPTION(free_slots("UTC", {}, {}, monday_noon, rules),
                        std::invalid_argument, mentions("slot_minutes = 0"));
  rules = rules_for(-1);
  BOOST_CHECK_EXCEPTION(free_slots("UTC", {}, {}, monday_noon, rules),
                        std::invalid_argument, mentions("window_days = -1"));
  rules = rules_for(14);
  rules.align_minutes = 0;
  BOOST_CHECK_EXCEPTION(free_slots("UTC", {}, {}, monday_noon, rules),
                        std::invalid_argument, mentions("align_minutes = 0"));
  BOOST_CHECK_THROW(free_slots("UTC", {}, {}, utc(10000, 1, 1, 0, 0)),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(slots_max_caps_the_total) {
  auto rules = rules_for(14);
  rules.slots_max = 3;
  BOOST_TEST(show(free_slots("UTC", default_availability(), {}, monday_noon,
                             rules)) ==
             (texts{"2026-03-02 18:00 +60", "2026-03-02 19:00 +60",
                    "2026-03-03 18:00 +60"}),
             boost::test_tools::per_element());
  rules.slots_max = 0;
  BOOST_TEST(free_slots("UTC", default_availability(), {}, monday_noon, rules)
               .empty());
}

BOOST_AUTO_TEST_CASE(no_availability_gives_no_slots) {
  BOOST_TEST(free_slots("UTC", {}, {}, monday_noon).empty());
  BOOST_TEST(free_slots("UTC", default_availability(), {}, monday_noon,
                        rules_for(0))
               .empty());
  BOOST_TEST(free_slots("UTC", default_availability(), {}, monday_noon,
                        rules_for(14, 0))
               .empty());
}

BOOST_AUTO_TEST_CASE(busy_intervals_covering_everything_leave_no_slots) {
  BOOST_TEST(free_slots("Europe/Berlin", default_availability(),
                        {{monday_noon - hour, monday_noon + 15 * day}},
                        monday_noon)
               .empty());
  // The same cover in unsorted, overlapping pieces.
  BOOST_TEST(free_slots("Europe/Berlin", default_availability(),
                        {{monday_noon + 7 * day, monday_noon + 15 * day},
                         {monday_noon - hour, monday_noon + 3 * day},
                         {monday_noon + 2 * day, monday_noon + 8 * day}},
                        monday_noon)
               .empty());
}

BOOST_AUTO_TEST_SUITE_END()
