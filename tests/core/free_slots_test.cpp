// SPDX-License-Identifier: Apache-2.0
// Free slots from weekly availability, busy intervals and a zone's rules:
// UTC, and made-up zones that show the search follows whatever rules it is
// given. Each case states its expected slots as UTC instants worked out by
// hand from the zone's offsets, written as text so that a failure shows
// which slot differs. The tz database's zones (DST in Berlin and New York,
// Kolkata's half hour) are tested in tests/adapters/tz_database_test.cpp.

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/free_slots.hpp"
#include "core/zone_rules.hpp"
#include "tests/support/slot_text.hpp"

using namespace catchup;
using namespace catchup::test;

namespace {

const fixed_offset_zone utc_rules{0};

// A made-up zone with one change of offset: `before_s` until the instant
// `change`, `after_s` from then on. A change forward skips the local times
// [change + before_s, change + after_s), one backward repeats
// [change + after_s, change + before_s).
class one_change_zone final : public zone_rules {
public:
  one_change_zone(std::int64_t before_s, unix_seconds change,
                  std::int64_t after_s)
    : before_s_(before_s), change_(change), after_s_(after_s) {
  }

  std::int64_t utc_offset_seconds(unix_seconds t) const override {
    return t < change_ ? before_s_ : after_s_;
  }

  unix_seconds to_instant(std::int64_t local_seconds) const override {
    // Read with the old offset if that lands before the change (the
    // earlier instant of a repeated time), else with the new one if that
    // lands after it; neither means the time was skipped.
    if (local_seconds - before_s_ < change_)
      return local_seconds - before_s_;
    if (local_seconds - after_s_ >= change_)
      return local_seconds - after_s_;
    return change_;
  }

private:
  std::int64_t before_s_;
  unix_seconds change_;
  std::int64_t after_s_;
};

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
  auto slots = free_slots(utc_rules, default_availability(), {}, monday_noon);
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
  BOOST_TEST(show(free_slots(utc_rules, default_availability(), busy,
                             monday_noon, rules_for(1))) ==
             (texts{"2026-03-02 18:00 +30", "2026-03-02 19:15 +60"}),
             boost::test_tools::per_element());
  // Without the daily cap, 20:15-21:00 gives a 45-minute slot too.
  BOOST_TEST(show(free_slots(utc_rules, default_availability(), busy,
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
  BOOST_TEST(show(free_slots(utc_rules, default_availability(), busy,
                             monday_noon, rules_for(1, 5))) ==
             (texts{"2026-03-02 19:30 +60", "2026-03-02 20:30 +30"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(now_inside_a_window_starts_at_the_next_quarter_hour) {
  // The horizon, Tue 18:07:30, leaves Tuesday 7.5 minutes: too short.
  auto now = utc(2026, 3, 2, 18, 7, 30);
  BOOST_TEST(show(free_slots(utc_rules, default_availability(), {}, now,
                             rules_for(1, 5))) ==
             (texts{"2026-03-02 18:15 +60", "2026-03-02 19:15 +60",
                    "2026-03-02 20:15 +45"}),
             boost::test_tools::per_element());
  // 20:45-21:00 is too short; Tuesday's evening is cut at 20:40.
  now = utc(2026, 3, 2, 20, 40);
  BOOST_TEST(show(free_slots(utc_rules, default_availability(), {}, now,
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
  BOOST_TEST(show(free_slots(utc_rules, windows, {}, monday_noon, rules)) ==
             (texts{"2026-03-02 18:00 +90", "2026-03-02 19:30 +90"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_daily_cap_applies_to_each_local_day) {
  // Around the clock: the two earliest slots of each day, and a day's gap
  // does not run into the next day.
  BOOST_TEST(show(free_slots(utc_rules, daily(0, 1440), {},
                             utc(2026, 3, 2, 0, 0), rules_for(3))) ==
             (texts{"2026-03-02 00:00 +60", "2026-03-02 01:00 +60",
                    "2026-03-03 00:00 +60", "2026-03-03 01:00 +60",
                    "2026-03-04 00:00 +60", "2026-03-04 01:00 +60"}),
             boost::test_tools::per_element());
  // Sun 22:30-24:00 and Mon 00:00-01:00 stay two days' gaps.
  std::vector<availability_window> windows{{7, 22 * 60 + 30, 1440},
                                           {1, 0, 60}};
  BOOST_TEST(show(free_slots(utc_rules, windows, {}, utc(2026, 3, 1, 0, 0),
                             rules_for(2, 5))) ==
             (texts{"2026-03-01 22:30 +60", "2026-03-01 23:30 +30",
                    "2026-03-02 00:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_fixed_offset_lays_windows_on_its_local_days) {
  // +05:30: 18:00 local is 12:30Z.
  const fixed_offset_zone plus_five_thirty{5 * hour + 30 * minute};
  BOOST_TEST(show(free_slots(plus_five_thirty, default_availability(), {},
                             utc(2026, 3, 2, 0, 0), rules_for(1))) ==
             (texts{"2026-03-02 12:30 +60", "2026-03-02 13:30 +60"}),
             boost::test_tools::per_element());
  // -10:00: Mon 00:00Z is still Sunday 14:00 local, in Sunday's 10:00-20:00
  // window; Monday's evening, 04:00Z on Tuesday, is past the horizon.
  const fixed_offset_zone minus_ten{-10 * hour};
  BOOST_TEST(show(free_slots(minus_ten, default_availability(), {},
                             utc(2026, 3, 2, 0, 0), rules_for(1))) ==
             (texts{"2026-03-02 00:00 +60", "2026-03-02 01:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_fixed_offset_is_less_than_a_day) {
  BOOST_CHECK_EXCEPTION(fixed_offset_zone{day}, std::invalid_argument,
                        mentions("86400"));
  BOOST_CHECK_THROW(fixed_offset_zone{-day}, std::invalid_argument);
  const fixed_offset_zone almost_a_day{day - 1};
  BOOST_TEST(almost_a_day.utc_offset_seconds(monday_noon) == day - 1);
  BOOST_TEST(almost_a_day.to_instant(monday_noon + day - 1) == monday_noon);
}

BOOST_AUTO_TEST_CASE(made_up_rules_skipping_two_hours_are_followed) {
  // +01:00 until Tue 2026-03-03 01:00Z, then +03:00: that night the clocks
  // jump from 02:00 to 04:00.
  const one_change_zone zone{hour, utc(2026, 3, 3, 1, 0), 3 * hour};
  auto now = utc(2026, 3, 2, 0, 0);
  // 01:00-05:00 local is 00:00Z-04:00Z on Monday, 00:00Z-02:00Z on
  // Tuesday (01:00-02:00, then 04:00-05:00 on the wall), 22:00Z-02:00Z
  // from Tuesday to Wednesday (cut at the horizon, Wed 00:00Z).
  BOOST_TEST(show(free_slots(zone, daily(60, 300), {}, now,
                             rules_for(2, 5))) ==
             (texts{"2026-03-02 00:00 +60", "2026-03-02 01:00 +60",
                    "2026-03-02 02:00 +60", "2026-03-02 03:00 +60",
                    "2026-03-03 00:00 +60", "2026-03-03 01:00 +60",
                    "2026-03-03 22:00 +60", "2026-03-03 23:00 +60"}),
             boost::test_tools::per_element());
  // Tuesday 02:30-03:30 lies wholly in the gap: nothing that day, and a
  // week later it is 23:30Z-00:30Z at +03:00.
  BOOST_TEST(free_slots(zone, {{2, 150, 210}}, {}, now, rules_for(2, 5))
               .empty());
  BOOST_TEST(show(free_slots(zone, {{2, 150, 210}}, {}, now,
                             rules_for(9, 5))) ==
             (texts{"2026-03-09 23:30 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(made_up_rules_repeating_two_hours_are_followed) {
  // +03:00 until Tue 2026-03-03 01:00Z, then +01:00: that night the clocks
  // go back from 04:00 to 02:00. Tuesday 02:30-04:30 runs from the earlier
  // 02:30 (+03:00, 23:30Z) to 04:30 (+01:00, 03:30Z): four hours.
  const one_change_zone zone{3 * hour, utc(2026, 3, 3, 1, 0), hour};
  BOOST_TEST(show(free_slots(zone, {{2, 150, 270}}, {},
                             utc(2026, 3, 2, 0, 0), rules_for(2, 5))) ==
             (texts{"2026-03-02 23:30 +60", "2026-03-03 00:30 +60",
                    "2026-03-03 01:30 +60", "2026-03-03 02:30 +60"}),
             boost::test_tools::per_element());
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
      free_slots(utc_rules, windows, {}, monday_noon), std::invalid_argument,
      mentions("windows[1] {weekday " + std::to_string(bad.weekday) +
               ", start_minute " + std::to_string(bad.start_minute) +
               ", end_minute " + std::to_string(bad.end_minute) + "}"));
  }
  // The full day and Sunday are valid.
  BOOST_TEST(free_slots(utc_rules, {{7, 0, 1440}}, {}, monday_noon).size() ==
             4u);
}

BOOST_AUTO_TEST_CASE(an_out_of_range_rule_or_now_is_rejected) {
  auto rules = rules_for(14);
  rules.slot_minutes = 0;
  BOOST_CHECK_EXCEPTION(free_slots(utc_rules, {}, {}, monday_noon, rules),
                        std::invalid_argument, mentions("slot_minutes = 0"));
  rules = rules_for(-1);
  BOOST_CHECK_EXCEPTION(free_slots(utc_rules, {}, {}, monday_noon, rules),
                        std::invalid_argument, mentions("window_days = -1"));
  rules = rules_for(14);
  rules.align_minutes = 0;
  BOOST_CHECK_EXCEPTION(free_slots(utc_rules, {}, {}, monday_noon, rules),
                        std::invalid_argument, mentions("align_minutes = 0"));
  BOOST_CHECK_THROW(free_slots(utc_rules, {}, {}, utc(10000, 1, 1, 0, 0)),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(slots_max_caps_the_total) {
  auto rules = rules_for(14);
  rules.slots_max = 3;
  BOOST_TEST(show(free_slots(utc_rules, default_availability(), {}, monday_noon,
                             rules)) ==
             (texts{"2026-03-02 18:00 +60", "2026-03-02 19:00 +60",
                    "2026-03-03 18:00 +60"}),
             boost::test_tools::per_element());
  rules.slots_max = 0;
  BOOST_TEST(free_slots(utc_rules, default_availability(), {}, monday_noon,
                        rules)
               .empty());
}

BOOST_AUTO_TEST_CASE(no_availability_gives_no_slots) {
  BOOST_TEST(free_slots(utc_rules, {}, {}, monday_noon).empty());
  BOOST_TEST(free_slots(utc_rules, default_availability(), {}, monday_noon,
                        rules_for(0))
               .empty());
  BOOST_TEST(free_slots(utc_rules, default_availability(), {}, monday_noon,
                        rules_for(14, 0))
               .empty());
}

BOOST_AUTO_TEST_SUITE_END()
