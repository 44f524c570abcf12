// SPDX-License-Identifier: Apache-2.0
// The tz database's zones as rules for the free slot search: free slots in
// real zones, each case's expected slots worked out by hand from the zone's
// offsets (including DST changes) and written as UTC text, and the error
// an unknown zone gives.

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/tz_database.hpp"
#include "core/free_slots.hpp"
#include "tests/support/slot_text.hpp"

using namespace catchup;
using namespace catchup::test;

namespace {

tz_database_zone zone(const std::string& name) {
  return tz_database_zone::locate(name);
}

} // namespace

BOOST_AUTO_TEST_SUITE(adapters_tz_database)

BOOST_AUTO_TEST_CASE(a_zone_answers_offsets_and_wall_clock_times) {
  auto berlin = zone("Europe/Berlin");
  BOOST_TEST(berlin.utc_offset_seconds(utc(2026, 3, 29, 0, 59, 59)) == hour);
  BOOST_TEST(berlin.utc_offset_seconds(utc(2026, 3, 29, 1, 0)) == 2 * hour);
  // Local 2026-03-29 01:30 exists once (CET); 02:30 is skipped and stands
  // for the change, 01:00Z; 03:30 is CEST.
  auto local = [](int h, int mi) {
    return utc(2026, 3, 29, h, mi);
  };
  BOOST_TEST(berlin.to_instant(local(1, 30)) == utc(2026, 3, 29, 0, 30));
  BOOST_TEST(berlin.to_instant(local(2, 30)) == utc(2026, 3, 29, 1, 0));
  BOOST_TEST(berlin.to_instant(local(3, 30)) == utc(2026, 3, 29, 1, 30));
  // Local 2026-10-25 02:30 passes twice: its earlier instant is CEST, 00:30Z.
  BOOST_TEST(berlin.to_instant(utc(2026, 10, 25, 2, 30)) ==
             utc(2026, 10, 25, 0, 30));
  // Copies and repeated lookups answer alike.
  auto again = zone("Europe/Berlin");
  BOOST_TEST(again.to_instant(local(2, 30)) == utc(2026, 3, 29, 1, 0));
  BOOST_TEST(zone("UTC").utc_offset_seconds(monday_noon) == 0);
}

BOOST_AUTO_TEST_CASE(berlin_evenings_keep_their_wall_clock_across_spring) {
  // Clocks go from 02:00 CET (+1) to 03:00 CEST (+2) on Sun 2026-03-29.
  BOOST_TEST(show(free_slots(zone("Europe/Berlin"), daily(18 * 60, 19 * 60), {},
                             utc(2026, 3, 27, 12, 0), rules_for(3))) ==
             (texts{"2026-03-27 17:00 +60", "2026-03-28 17:00 +60",
                    "2026-03-29 16:00 +60"}),
             boost::test_tools::per_element());
  // Sunday 01:00-04:00 lasts two hours that night: 01:00-02:00 CET, then
  // 03:00-04:00 CEST.
  BOOST_TEST(show(free_slots(zone("Europe/Berlin"), {{7, 60, 240}}, {},
                             utc(2026, 3, 28, 12, 0), rules_for(2, 5))) ==
             (texts{"2026-03-29 00:00 +60", "2026-03-29 01:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(berlin_evenings_keep_their_wall_clock_across_autumn) {
  // Clocks go from 03:00 CEST (+2) back to 02:00 CET (+1) on Sun 2026-10-25.
  BOOST_TEST(show(free_slots(zone("Europe/Berlin"), daily(18 * 60, 19 * 60), {},
                             utc(2026, 10, 23, 12, 0), rules_for(3))) ==
             (texts{"2026-10-23 16:00 +60", "2026-10-24 16:00 +60",
                    "2026-10-25 17:00 +60"}),
             boost::test_tools::per_element());
  // Sunday 01:00-04:00 lasts four hours that night: 01:00 CEST (23:00Z) to
  // 04:00 CET (03:00Z), the hour 02:00-03:00 passing twice.
  BOOST_TEST(show(free_slots(zone("Europe/Berlin"), {{7, 60, 240}}, {},
                             utc(2026, 10, 24, 12, 0), rules_for(2, 5))) ==
             (texts{"2026-10-24 23:00 +60", "2026-10-25 00:00 +60",
                    "2026-10-25 01:00 +60", "2026-10-25 02:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(kolkata_evenings_are_at_half_past_noon_utc) {
  // Asia/Kolkata is +05:30 all year: 18:00 local is 12:30Z.
  BOOST_TEST(show(free_slots(zone("Asia/Kolkata"), default_availability(), {},
                             utc(2026, 3, 2, 0, 0), rules_for(1))) ==
             (texts{"2026-03-02 12:30 +60", "2026-03-02 13:30 +60"}),
             boost::test_tools::per_element());
  // Alignment is to local time: from 18:10 local (12:40Z), hourly alignment
  // gives 19:00 local, 13:30Z, not 13:00Z. The horizon, Tue 12:40Z, is 18:10
  // local, so Tuesday gives nothing.
  auto rules = rules_for(1, 5);
  rules.align_minutes = 60;
  BOOST_TEST(show(free_slots(zone("Asia/Kolkata"), default_availability(), {},
                             utc(2026, 3, 2, 12, 40), rules)) ==
             (texts{"2026-03-02 13:30 +60", "2026-03-02 14:30 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_skipped_local_time_starts_at_the_first_valid_instant) {
  // New York skips 02:00-03:00 on Sun 2026-03-08 (EST -5 to EDT -4).
  // 02:30-04:00 starts at 03:00 EDT, 07:00Z, and ends at 04:00 EDT, 08:00Z.
  auto now = utc(2026, 3, 7, 12, 0);
  BOOST_TEST(show(free_slots(zone("America/New_York"), {{7, 150, 240}}, {}, now,
                             rules_for(2, 5))) ==
             (texts{"2026-03-08 07:00 +60"}),
             boost::test_tools::per_element());
  // 02:00-03:00 does not exist that day at all, but does a week later
  // (02:00 EDT is 06:00Z).
  BOOST_TEST(free_slots(zone("America/New_York"), {{7, 120, 180}}, {}, now,
                        rules_for(2, 5))
               .empty());
  BOOST_TEST(show(free_slots(zone("America/New_York"), {{7, 120, 180}}, {}, now,
                             rules_for(8, 5))) ==
             (texts{"2026-03-15 06:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_repeated_local_time_starts_at_its_earlier_instant) {
  // New York repeats 01:00-02:00 on Sun 2026-11-01 (EDT -4 to EST -5).
  // 01:00-03:00 runs from 01:00 EDT, 05:00Z, to 03:00 EST, 08:00Z.
  BOOST_TEST(show(free_slots(zone("America/New_York"), {{7, 60, 180}}, {},
                             utc(2026, 10, 31, 12, 0), rules_for(2, 5))) ==
             (texts{"2026-11-01 05:00 +60", "2026-11-01 06:00 +60",
                    "2026-11-01 07:00 +60"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_unknown_zone_is_rejected_by_name) {
  BOOST_CHECK_EXCEPTION(free_slots(zone("Mars/Olympus_Mons"),
                                   default_availability(), {}, monday_noon),
                        std::invalid_argument,
                        mentions("unknown time zone \"Mars/Olympus_Mons\": "));
  BOOST_CHECK_EXCEPTION(free_slots(zone("europe/berlin"), {}, {}, monday_noon),
                        std::invalid_argument,
                        mentions("unknown time zone \"europe/berlin\": "));
  BOOST_TEST(is_valid_timezone("Europe/Berlin"));
  BOOST_TEST(is_valid_timezone("Asia/Kolkata"));
  BOOST_TEST(is_valid_timezone("UTC"));
  BOOST_TEST(!is_valid_timezone("Mars/Olympus_Mons"));
  BOOST_TEST(!is_valid_timezone("europe/berlin"));
  BOOST_TEST(!is_valid_timezone(""));
  BOOST_TEST(!is_valid_timezone("../../etc/passwd"));
}

BOOST_AUTO_TEST_CASE(busy_intervals_covering_everything_leave_no_slots) {
  BOOST_TEST(free_slots(zone("Europe/Berlin"), default_availability(),
                        {{monday_noon - hour, monday_noon + 15 * day}},
                        monday_noon)
               .empty());
  // The same cover in unsorted, overlapping pieces.
  BOOST_TEST(free_slots(zone("Europe/Berlin"), default_availability(),
                        {{monday_noon + 7 * day, monday_noon + 15 * day},
                         {monday_noon - hour, monday_noon + 3 * day},
                         {monday_noon + 2 * day, monday_noon + 8 * day}},
                        monday_noon)
               .empty());
}

BOOST_AUTO_TEST_SUITE_END()
