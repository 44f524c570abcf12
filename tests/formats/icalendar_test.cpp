// SPDX-License-Identifier: Apache-2.0
// The streaming iCalendar reader: each behaviour on a small inline calendar,
// the limits and error recovery, the real exports of ../shared/data/real/ical
// (with field values worked out by hand from the files), and a generated
// 100,000-event stream.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "formats/icalendar.hpp"
#include "tests/support/import_reading.hpp"

using namespace catchup;

namespace {

/// Unix seconds of a UTC date and time (proleptic Gregorian).
constexpr std::int64_t utc(std::int64_t y, unsigned m, unsigned d,
                           unsigned hh = 0, unsigned mm = 0, unsigned ss = 0) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days =
      era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return days * 86400 + hh * 3600 + mm * 60 + ss;
}

static_assert(utc(1970, 1, 1) == 0);
static_assert(utc(2024, 3, 31, 1) == 1711846800);

/// A window wide enough for every inline calendar: 2000 to 2100.
constexpr std::int64_t wide_from = utc(2000, 1, 1);
constexpr std::int64_t wide_to = utc(2100, 1, 1);

struct ical_result {
  std::vector<calendar_event_item> items;
  std::vector<icalendar_error> errors;
  /// Items and errors in reading order: 'i' or 'e'.
  std::string order;
  std::size_t lines = 0;
  std::uint64_t bytes = 0;
  std::uint64_t outside = 0;
};

ical_result read_all(std::istream &in, std::int64_t from = wide_from,
                     std::int64_t to = wide_to, icalendar_limits limits = {}) {
  ical_result r;
  icalendar_reader reader{in, from, to, limits};
  calendar_event_item item;
  std::optional<icalendar_error> error;
  while (reader.next(item, error)) {
    if (error) {
      BOOST_TEST(item.external_id.empty());
      r.errors.push_back(*error);
      r.order += 'e';
    } else {
      r.items.push_back(item);
      r.order += 'i';
    }
  }
  r.lines = reader.line();
  r.bytes = reader.bytes_read();
  r.outside = reader.events_outside_window();
  return r;
}

ical_result read_text(const std::string &text, std::int64_t from = wide_from,
                      std::int64_t to = wide_to, icalendar_limits limits = {}) {
  std::istringstream in{text};
  return read_all(in, from, to, limits);
}

ical_result read_limited(const std::string &text, icalendar_limits limits) {
  return read_text(text, wide_from, wide_to, limits);
}

/// The one item of `text`, which must read without an error.
calendar_event_item read_one(const std::string &text) {
  const ical_result r = read_text(text);
  for (const auto &e : r.errors)
    BOOST_TEST_MESSAGE("unexpected error at " << e.line << ": " << e.reason);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  return r.items.front();
}

/// A VCALENDAR around `body`, with LF line ends.
std::string calendar(const std::string &body) {
  return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n" + body +
         "END:VCALENDAR\n";
}

std::vector<std::string> ids(const ical_result &r) {
  std::vector<std::string> out;
  for (const auto &i : r.items)
    out.push_back(i.external_id);
  return out;
}

std::vector<std::int64_t> starts(const ical_result &r) {
  std::vector<std::int64_t> out;
  for (const auto &i : r.items)
    out.push_back(i.start_unix_s);
  return out;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// Europe/Berlin since 1996, as Outlook and Google write it.
const std::string berlin_vtimezone = "BEGIN:VTIMEZONE\n"
                                     "TZID:Europe/Berlin\n"
                                     "BEGIN:DAYLIGHT\n"
                                     "TZOFFSETFROM:+0100\n"
                                     "TZOFFSETTO:+0200\n"
                                     "TZNAME:CEST\n"
                                     "DTSTART:19700329T020000\n"
                                     "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\n"
                                     "END:DAYLIGHT\n"
                                     "BEGIN:STANDARD\n"
                                     "TZOFFSETFROM:+0200\n"
                                     "TZOFFSETTO:+0100\n"
                                     "TZNAME:CET\n"
                                     "DTSTART:19701025T030000\n"
                                     "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\n"
                                     "END:STANDARD\n"
                                     "END:VTIMEZONE\n";

std::filesystem::path real_ical_dir() {
  return test::real_data_dir("ical");
}

ical_result read_real(const std::string &name, std::int64_t from = wide_from,
                      std::int64_t to = wide_to) {
  const auto path = real_ical_dir() / name;
  std::ifstream in{path, std::ios::binary};
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  return read_all(in, from, to);
}

/// Generates a calendar of `count` single events on the fly, so the stream
/// never exists whole.
class generated_events : public std::streambuf {
public:
  explicit generated_events(std::size_t count) : count_(count) {
  }

  std::uint64_t bytes_made() const {
    return bytes_;
  }

protected:
  int_type underflow() override {
    if (made_ > count_)
      return traits_type::eof();
    if (made_ == 0) {
      chunk_ = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//gen//EN\r\n";
    } else {
      const std::size_t n = made_ - 1;
      const std::string id = std::to_string(n);
      // One event an hour from 2024-01-01T00:00Z.
      const std::int64_t start =
          utc(2024, 1, 1) + static_cast<std::int64_t>(n) * 3600;
      const std::int64_t days = start / 86400;
      const std::int64_t hour = start % 86400 / 3600;
      // days since 2024-01-01 to a date, good for 100,000 hours (11 years).
      std::int64_t y = 2024;
      std::int64_t d = days - utc(2024, 1, 1) / 86400;
      auto year_days = [](std::int64_t year) {
        return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366
                                                                       : 365;
      };
      while (d >= year_days(y))
        d -= year_days(y++);
      static const int month_days[] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
      int m = 0;
      for (;; ++m) {
        const int length = month_days[m] + (m == 1 && year_days(y) == 366);
        if (d < length)
          break;
        d -= length;
      }
      char date[96];
      std::snprintf(date, sizeof date, "%04lld%02d%02lldT%02lld",
                    static_cast<long long>(y), m + 1,
                    static_cast<long long>(d + 1),
                    static_cast<long long>(hour));
      chunk_ =
          "BEGIN:VEVENT\r\nUID:event-" + id +
          "@example.com\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:" + date +
          "0000Z\r\nDTEND:" + date + "3000Z\r\nSUMMARY:Meeting number " + id +
          "\r\nLOCATION:Room " + std::to_string(n % 50) +
          "\r\nATTENDEE;CN=Person:mailto:person" + std::to_string(n % 1000) +
          "@example.com\r\nDESCRIPTION:a description that is folded\r\n over "
          "two lines\r\nEND:VEVENT\r\n";
      if (made_ == count_)
        chunk_ += "END:VCALENDAR\r\n";
    }
    ++made_;
    bytes_ += chunk_.size();
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    return traits_type::to_int_type(chunk_[0]);
  }

private:
  std::size_t count_;
  std::size_t made_ = 0;
  std::uint64_t bytes_ = 0;
  std::string chunk_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(formats_icalendar)

// -- single events ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reads_the_fields_of_a_single_event) {
  const calendar_event_item e = read_one(
      calendar("BEGIN:VEVENT\n"
               "UID:abc-1@example.com\n"
               "DTSTAMP:20240101T000000Z\n"
               "DTSTART:20240502T143000Z\n"
               "DTEND:20240502T153000Z\n"
               "SUMMARY:Plan\\, review\\; and \\\"ship\\\"\\nnext line\n"
               "LOCATION:M\xC3\xBCnchen\\, Raum 3\n"
               "DESCRIPTION:not read\n"
               "END:VEVENT\n"));
  BOOST_TEST(e.external_id == "abc-1@example.com");
  BOOST_TEST(e.series_id == "abc-1@example.com");
  BOOST_TEST(e.summary == "Plan, review; and \"ship\"\nnext line");
  BOOST_TEST(e.location == "M\xC3\xBCnchen, Raum 3");
  BOOST_TEST(e.start_unix_s == utc(2024, 5, 2, 14, 30));
  BOOST_TEST(e.end_unix_s == utc(2024, 5, 2, 15, 30));
  BOOST_TEST(e.timezone == "");
  BOOST_TEST(!e.all_day);
  BOOST_TEST(e.busy);
  BOOST_TEST(!e.cancelled);
  BOOST_TEST(e.attendee_emails.empty());
  BOOST_TEST(e.position == 4u);
}

BOOST_AUTO_TEST_CASE(unfolds_lines_folded_with_space_or_tab) {
  const calendar_event_item e = read_one(
      calendar("BEGIN:VEVENT\n"
               "UID:fol\n ded\n"
               "DTSTART:20240502T14\n\t3000Z\n"
               "SUMMARY:one\n  two\n\tthree\n"
               "ATTENDEE;CN=\"Doe\n , Jane\":mailto:jane@exa\n\tmple.com\n"
               "END:VEVENT\n"));
  BOOST_TEST(e.external_id == "folded");
  BOOST_TEST(e.start_unix_s == utc(2024, 5, 2, 14, 30));
  BOOST_TEST(e.summary == "one twothree");
  BOOST_TEST(e.attendee_emails ==
             (std::vector<std::string>{"jane@example.com"}));
}

BOOST_AUTO_TEST_CASE(crlf_and_lf_line_ends_read_alike) {
  const std::string lf =
      calendar("BEGIN:VEVENT\nUID:a\nDTSTART:20240502T143000Z\nDURATION:PT45M\n"
               "SUMMARY:fol\n ded\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:b\nDTSTART:20240503T090000Z\nEND:VEVENT\n");
  std::string crlf;
  for (char c : lf)
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const ical_result a = read_text(lf);
  const ical_result b = read_text(crlf);
  BOOST_REQUIRE_EQUAL(a.items.size(), 2u);
  BOOST_REQUIRE_EQUAL(b.items.size(), 2u);
  BOOST_TEST(a.errors.empty());
  BOOST_TEST(b.errors.empty());
  for (std::size_t i = 0; i < 2; ++i) {
    BOOST_TEST(a.items[i].external_id == b.items[i].external_id);
    BOOST_TEST(a.items[i].summary == b.items[i].summary);
    BOOST_TEST(a.items[i].start_unix_s == b.items[i].start_unix_s);
    BOOST_TEST(a.items[i].end_unix_s == b.items[i].end_unix_s);
    BOOST_TEST(a.items[i].position == b.items[i].position);
  }
  BOOST_TEST(a.items[0].summary == "folded");
  BOOST_TEST(a.items[0].end_unix_s == utc(2024, 5, 2, 15, 15));
  BOOST_TEST(a.items[1].end_unix_s == a.items[1].start_unix_s);
  BOOST_TEST(b.bytes == crlf.size());
}

BOOST_AUTO_TEST_CASE(a_utf8_byte_order_mark_is_skipped) {
  const ical_result r = read_text(
      "\xEF\xBB\xBF" +
      calendar(
          "BEGIN:VEVENT\nUID:bom\nDTSTART:20240502T143000Z\nEND:VEVENT\n"));
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(r.items[0].external_id == "bom");
}

BOOST_AUTO_TEST_CASE(transparent_events_are_not_busy) {
  const ical_result r = read_text(calendar(
      "BEGIN:VEVENT\nUID:t\nDTSTART:20240502T143000Z\nTRANSP:TRANSPARENT\n"
      "END:VEVENT\n"
      "BEGIN:VEVENT\nUID:o\nDTSTART:20240502T143000Z\nTRANSP:OPAQUE\n"
      "END:VEVENT\n"));
  BOOST_REQUIRE_EQUAL(r.items.size(), 2u);
  BOOST_TEST(!r.items[0].busy);
  BOOST_TEST(r.items[1].busy);
}

BOOST_AUTO_TEST_CASE(a_cancelled_event_is_produced_cancelled) {
  const calendar_event_item e = read_one(calendar(
      "BEGIN:VEVENT\nUID:c\nDTSTART:20240502T143000Z\nSTATUS:CANCELLED\n"
      "END:VEVENT\n"));
  BOOST_TEST(e.external_id == "c");
  BOOST_TEST(e.cancelled);
}

BOOST_AUTO_TEST_CASE(a_cancelled_master_gives_one_series_item) {
  // Its first start is before the window; it is produced anyway, since it
  // removes the instances that fall into the window.
  const ical_result r =
      read_text(calendar("BEGIN:VEVENT\nUID:series\nDTSTART:20200106T090000Z\n"
                         "DTEND:20200106T100000Z\nRRULE:FREQ=WEEKLY\n"
                         "STATUS:CANCELLED\nEND:VEVENT\n"),
                utc(2024, 1, 1), utc(2025, 1, 1));
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(r.items[0].external_id == "series");
  BOOST_TEST(r.items[0].series_id == "series");
  BOOST_TEST(r.items[0].cancelled);
  BOOST_TEST(r.items[0].start_unix_s == utc(2020, 1, 6, 9));
}

BOOST_AUTO_TEST_CASE(all_day_events_run_from_midnight_utc) {
  const ical_result r = read_text(calendar(
      "BEGIN:VEVENT\nUID:one\nDTSTART;VALUE=DATE:20240229\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:two\nDTSTART;VALUE=DATE:20240301\n"
      "DTEND;VALUE=DATE:20240303\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:dur\nDTSTART;VALUE=DATE:20240301\nDURATION:P1W\n"
      "END:VEVENT\n"));
  BOOST_REQUIRE_EQUAL(r.items.size(), 3u);
  BOOST_TEST(r.items[0].all_day);
  BOOST_TEST(r.items[0].start_unix_s == utc(2024, 2, 29));
  BOOST_TEST(r.items[0].end_unix_s == utc(2024, 3, 1)); // no DTEND: one day
  BOOST_TEST(r.items[1].start_unix_s == utc(2024, 3, 1));
  BOOST_TEST(r.items[1].end_unix_s == utc(2024, 3, 3));
  BOOST_TEST(r.items[2].end_unix_s == utc(2024, 3, 8));
  BOOST_TEST(r.items[2].timezone == "");
}

BOOST_AUTO_TEST_CASE(zoned_times_use_the_files_vtimezone_or_a_builtin_zone) {
  // 2024-07-01 09:00 in Berlin is CEST (UTC+2): 07:00Z; 2024-01-15 09:00 is
  // CET (UTC+1): 08:00Z. "Custom/Zone" is defined by the file only, with a
  // fixed +05:30; "Nowhere/Land" is unknown: floating, taken as UTC.
  const ical_result r = read_text(calendar(
      berlin_vtimezone +
      "BEGIN:VTIMEZONE\nTZID:Custom/Zone\nBEGIN:STANDARD\n"
      "DTSTART:19700101T000000\nTZOFFSETFROM:+0530\nTZOFFSETTO:+0530\n"
      "END:STANDARD\nEND:VTIMEZONE\n"
      "BEGIN:VEVENT\nUID:summer\nDTSTART;TZID=Europe/Berlin:20240701T090000\n"
      "DTEND;TZID=Europe/Berlin:20240701T100000\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:winter\nDTSTART;TZID=Europe/Berlin:20240115T090000\n"
      "DURATION:PT30M\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:custom\nDTSTART;TZID=Custom/Zone:20240115T090000\n"
      "END:VEVENT\n"
      "BEGIN:VEVENT\nUID:builtin\nDTSTART;TZID=America/"
      "New_York:20240115T090000\n"
      "END:VEVENT\n"
      "BEGIN:VEVENT\nUID:unknown\nDTSTART;TZID=Nowhere/Land:20240115T090000\n"
      "END:VEVENT\n"
      "BEGIN:VEVENT\nUID:hostile\n"
      "DTSTART;TZID=../../../../etc/passwd:20240115T090000\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:floating\nDTSTART:20240115T090000\nEND:VEVENT\n"));
  BOOST_TEST(r.errors.empty());
  BOOST_REQUIRE_EQUAL(r.items.size(), 7u);
  BOOST_TEST(r.items[0].start_unix_s == utc(2024, 7, 1, 7));
  BOOST_TEST(r.items[0].end_unix_s == utc(2024, 7, 1, 8));
  BOOST_TEST(r.items[0].timezone == "Europe/Berlin");
  BOOST_TEST(r.items[1].start_unix_s == utc(2024, 1, 15, 8));
  BOOST_TEST(r.items[1].end_unix_s == utc(2024, 1, 15, 8, 30));
  BOOST_TEST(r.items[2].start_unix_s == utc(2024, 1, 15, 3, 30));
  BOOST_TEST(r.items[2].timezone == "Custom/Zone");
  // New York in January is EST (UTC-5), from the system tz database.
  BOOST_TEST(r.items[3].start_unix_s == utc(2024, 1, 15, 14));
  BOOST_TEST(r.items[3].timezone == "America/New_York");
  for (std::size_t i = 4; i < 7; ++i) {
    BOOST_TEST(r.items[i].start_unix_s == utc(2024, 1, 15, 9));
    BOOST_TEST(r.items[i].timezone == "");
  }
}

BOOST_AUTO_TEST_CASE(a_day_of_duration_keeps_the_wall_clock_across_dst) {
  // 2024-03-30 12:00 CET (11:00Z) + P1D = 2024-03-31 12:00 CEST (10:00Z):
  // 23 elapsed hours; PT24H would be 24.
  const ical_result r = read_text(calendar(
      berlin_vtimezone +
      "BEGIN:VEVENT\nUID:day\nDTSTART;TZID=Europe/Berlin:20240330T120000\n"
      "DURATION:P1D\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:hours\nDTSTART;TZID=Europe/Berlin:20240330T120000\n"
      "DURATION:PT24H\nEND:VEVENT\n"));
  BOOST_REQUIRE_EQUAL(r.items.size(), 2u);
  BOOST_TEST(r.items[0].start_unix_s == utc(2024, 3, 30, 11));
  BOOST_TEST(r.items[0].end_unix_s == utc(2024, 3, 31, 10));
  BOOST_TEST(r.items[1].end_unix_s == utc(2024, 3, 31, 11));
}

BOOST_AUTO_TEST_CASE(attendees_and_organizer_become_lower_case_addresses) {
  const calendar_event_item e = read_one(calendar(
      "BEGIN:VEVENT\nUID:a\nDTSTART:20240502T143000Z\n"
      "ORGANIZER;CN=Boss:MAILTO:Boss@Example.COM\n"
      "ATTENDEE;CN=\"Doe, Jane\";PARTSTAT=ACCEPTED:mailto:jane@example.com\n"
      "ATTENDEE:mailto:BOSS@example.com\n"
      "ATTENDEE;CUTYPE=RESOURCE:urn:uuid:1234-5678\n"
      "ATTENDEE:invalid:nomail\n"
      "ATTENDEE: mailto:spaced@example.org \n"
      "END:VEVENT\n"));
  BOOST_TEST(e.attendee_emails ==
             (std::vector<std::string>{"boss@example.com", "jane@example.com",
                                       "spaced@example.org"}));
}

BOOST_AUTO_TEST_CASE(attendees_are_bounded_by_attendees_max) {
  std::string body = "BEGIN:VEVENT\nUID:big\nDTSTART:20240502T143000Z\n";
  for (std::size_t i = 0; i < attendees_max + 50; ++i)
    body += "ATTENDEE:mailto:p" + std::to_string(i) + "@example.com\n";
  const calendar_event_item e = read_one(calendar(body + "END:VEVENT\n"));
  BOOST_TEST(e.attendee_emails.size() == attendees_max);
  BOOST_TEST(e.attendee_emails.back() ==
             "p" + std::to_string(attendees_max - 1) + "@example.com");
}

BOOST_AUTO_TEST_CASE(other_components_and_alarms_are_skipped) {
  const ical_result r = read_text(calendar(
      "BEGIN:VTODO\nUID:todo\nDTSTART:20240502T143000Z\nBEGIN:VALARM\n"
      "TRIGGER:-PT5M\nEND:VALARM\nEND:VTODO\n"
      "BEGIN:VEVENT\nUID:e\nDTSTART:20240502T143000Z\nBEGIN:VALARM\n"
      "ACTION:EMAIL\nATTENDEE:mailto:alarm@example.com\nSUMMARY:alarm\n"
      "TRIGGER:not a trigger\nEND:VALARM\nSUMMARY:event\nEND:VEVENT\n"
      "BEGIN:X-UNKNOWN\nEND:X-UNKNOWN\n"
      "BEGIN:VJOURNAL\nUID:j\nEND:VJOURNAL\n"));
  BOOST_TEST(r.errors.empty());
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  BOOST_TEST(r.items[0].external_id == "e");
  BOOST_TEST(r.items[0].summary == "event");
  BOOST_TEST(r.items[0].attendee_emails.empty());
}

BOOST_AUTO_TEST_CASE(several_calendars_one_after_the_other) {
  const ical_result r = read_text(
      calendar("BEGIN:VEVENT\nUID:a\nDTSTART:20240502T143000Z\nEND:VEVENT\n") +
      "\n" +
      calendar("BEGIN:VEVENT\nUID:b\nDTSTART:20240502T143000Z\nEND:VEVENT\n"));
  BOOST_TEST(ids(r) == (std::vector<std::string>{"a", "b"}));
  BOOST_TEST(r.items[1].position == 13u);
}

// -- recurrence ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rrule_with_count) {
  const ical_result r = read_text(calendar(
      "BEGIN:VEVENT\nUID:daily\nDTSTART:20240502T090000Z\n"
      "DTEND:20240502T093000Z\nRRULE:FREQ=DAILY;COUNT=3\nSUMMARY:Standup\n"
      "END:VEVENT\n"));
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(ids(r) == (std::vector<std::string>{"daily/20240502T090000Z",
                                                 "daily/20240503T090000Z",
                                                 "daily/20240504T090000Z"}));
  for (const auto &i : r.items) {
    BOOST_TEST(i.series_id == "daily");
    BOOST_TEST(i.summary == "Standup");
    BOOST_TEST(i.end_unix_s - i.start_unix_s == 1800);
    BOOST_TEST(i.position == 4u);
  }
  BOOST_TEST(r.items[2].start_unix_s == utc(2024, 5, 4, 9));
}

BOOST_AUTO_TEST_CASE(rrule_until_across_a_dst_change_in_europe_berlin) {
  // Mondays 09:00 Berlin: 2024-03-25 is CET (UTC+1) -> 08:00Z; DST starts
  // 2024-03-31, so 2024-04-01 and 04-08 are CEST (UTC+2) -> 07:00Z. UNTIL
  // is the last instance, inclusive. Once with the file's VTIMEZONE, once
  // with the builtin zone of that name.
  for (const std::string &zone : {berlin_vtimezone, std::string()}) {
    const ical_result r = read_text(calendar(
        zone + "BEGIN:VEVENT\nUID:weekly\n"
               "DTSTART;TZID=Europe/Berlin:20240325T090000\n"
               "DTEND;TZID=Europe/Berlin:20240325T100000\n"
               "RRULE:FREQ=WEEKLY;UNTIL=20240408T070000Z\nEND:VEVENT\n"));
    BOOST_TEST(r.errors.empty());
    BOOST_TEST(ids(r) == (std::vector<std::string>{"weekly/20240325T080000Z",
                                                   "weekly/20240401T070000Z",
                                                   "weekly/20240408T070000Z"}));
    BOOST_TEST(starts(r) == (std::vector<std::int64_t>{utc(2024, 3, 25, 8),
                                                       utc(2024, 4, 1, 7),
                                                       utc(2024, 4, 8, 7)}));
    for (const auto &i : r.items) {
      BOOST_TEST(i.end_unix_s - i.start_unix_s == 3600);
      BOOST_TEST(i.timezone == "Europe/Berlin");
    }
  }
}

BOOST_AUTO_TEST_CASE(exdate_removes_an_instance) {
  const ical_result r = read_text(calendar(
      berlin_vtimezone +
      "BEGIN:VEVENT\nUID:x\nDTSTART;TZID=Europe/Berlin:20240325T090000\n"
      "RRULE:FREQ=WEEKLY;COUNT=4\n"
      "EXDATE;TZID=Europe/Berlin:20240401T090000\n"
      "EXDATE:20240415T070000Z\n"
      "END:VEVENT\n"));
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(ids(r) == (std::vector<std::string>{"x/20240325T080000Z",
                                                 "x/20240408T070000Z"}));
}

BOOST_AUTO_TEST_CASE(rdate_adds_instances_with_period_values_too) {
  // The PERIOD instance lasts as its period says (2 hours), the others as
  // the master (30 minutes).
  const ical_result r = read_text(
      calendar("BEGIN:VEVENT\nUID:r\nDTSTART:20240502T090000Z\nDURATION:PT30M\n"
               "RRULE:FREQ=DAILY;COUNT=2\n"
               "RDATE:20240510T120000Z,20240503T090000Z\n"
               "RDATE;VALUE=PERIOD:20240520T150000Z/PT2H\n"
               "END:VEVENT\n"));
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(ids(r) == (std::vector<std::string>{
                           "r/20240502T090000Z", "r/20240503T090000Z",
                           "r/20240510T120000Z", "r/20240520T150000Z"}));
  BOOST_TEST(r.items[2].end_unix_s == utc(2024, 5, 10, 12, 30));
  BOOST_TEST(r.items[3].end_unix_s == utc(2024, 5, 20, 17));
}

BOOST_AUTO_TEST_CASE(an_all_day_series_is_keyed_by_dates) {
  const ical_result r = read_text(calendar(
      "BEGIN:VEVENT\nUID:bday\nDTSTART;VALUE=DATE:20220229\n"
      "RRULE:FREQ=YEARLY;COUNT=3\nEXDATE;VALUE=DATE:20230228\nEND:VEVENT\n"));
  // 2022 has no 29 February, so the yearly rule is 2024-02-29 only; DTSTART
  // 20220229 does not exist at all: an error.
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(contains(r.errors[0].reason, "DTSTART"));
  const ical_result ok = read_text(calendar(
      "BEGIN:VEVENT\nUID:bday\nDTSTART;VALUE=DATE:20220310\n"
      "RRULE:FREQ=YEARLY;COUNT=3\nEXDATE;VALUE=DATE:20230310\nEND:VEVENT\n"));
  BOOST_TEST(ok.errors.empty());
  BOOST_TEST(ids(ok) ==
             (std::vector<std::string>{"bday/20220310", "bday/20240310"}));
  BOOST_TEST(ok.items[1].all_day);
  BOOST_TEST(ok.items[1].start_unix_s == utc(2024, 3, 10));
  BOOST_TEST(ok.items[1].end_unix_s == utc(2024, 3, 11));
}

BOOST_AUTO_TEST_CASE(an_override_read_before_its_master) {
  // The master must not produce the 3 May instance: the override moved it
  // to 14:00.
  const ical_result r = read_text(calendar(
      "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20240503T090000Z\n"
      "DTSTART:20240503T140000Z\nDTEND:20240503T150000Z\nSUMMARY:moved\n"
      "END:VEVENT\n"
      "BEGIN:VEVENT\nUID:s\nDTSTART:20240502T090000Z\nDTEND:20240502T100000Z\n"
      "RRULE:FREQ=DAILY;COUNT=3\nSUMMARY:daily\nEND:VEVENT\n"));
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(ids(r) == (std::vector<std::string>{"s/20240503T090000Z",
                                                 "s/20240502T090000Z",
                                                 "s/20240504T090000Z"}));
  BOOST_TEST(r.items[0].summary == "moved");
  BOOST_TEST(r.items[0].series_id == "s");
  BOOST_TEST(r.items[0].start_unix_s == utc(2024, 5, 3, 14));
  BOOST_TEST(r.items[0].position == 4u);
}

BOOST_AUTO_TEST_CASE(an_override_read_after_its_master) {
  // The master's instance comes first, the override later with the same
  // key: storage keeps the later one. A cancelled override removes it.
  const ical_result r = read_text(
      calendar("BEGIN:VEVENT\nUID:s\nDTSTART;VALUE=DATE:20240502\n"
               "RRULE:FREQ=DAILY;COUNT=3\nSUMMARY:daily\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;VALUE=DATE:20240503\n"
               "DTSTART;VALUE=DATE:20240505\nSUMMARY:moved\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;VALUE=DATE:20240504\n"
               "DTSTART;VALUE=DATE:20240504\nSTATUS:CANCELLED\nEND:VEVENT\n"));
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(ids(r) ==
             (std::vector<std::string>{"s/20240502", "s/20240503", "s/20240504",
                                       "s/20240503", "s/20240504"}));
  BOOST_TEST(r.items[3].summary == "moved");
  BOOST_TEST(r.items[3].start_unix_s == utc(2024, 5, 5));
  BOOST_TEST(r.items[4].cancelled);
}

BOOST_AUTO_TEST_CASE(an_override_moved_out_of_the_window_is_still_produced) {
  const ical_result r = read_text(
      calendar("BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20240503T090000Z\n"
               "DTSTART:20250101T090000Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:other\nRECURRENCE-ID:20230503T090000Z\n"
               "DTSTART:20250101T090000Z\nEND:VEVENT\n"),
      utc(2024, 5, 1), utc(2024, 6, 1));
  BOOST_TEST(ids(r) == (std::vector<std::string>{"s/20240503T090000Z"}));
  BOOST_TEST(r.outside == 1u);
}

BOOST_AUTO_TEST_CASE(overrides_remembered_are_bounded) {
  // With room for one override, the second is forgotten: the master,
  // read after both, produces the second's instance again.
  icalendar_limits limits;
  limits.overrides_max = 1;
  const ical_result r = read_limited(
      calendar("BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20240503T090000Z\n"
               "DTSTART:20240503T140000Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20240504T090000Z\n"
               "DTSTART:20240504T140000Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:s\nDTSTART:20240502T090000Z\n"
               "RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"),
      limits);
  BOOST_TEST(ids(r) == (std::vector<std::string>{
                           "s/20240503T090000Z", "s/20240504T090000Z",
                           "s/20240502T090000Z", "s/20240504T090000Z"}));
}

BOOST_AUTO_TEST_CASE(the_window_clips_events_and_instances) {
  // Window: May 2024. Overlap is half-open: an event ending at the window's
  // start is outside, one starting at its end is outside.
  const ical_result r = read_text(
      calendar("BEGIN:VEVENT\nUID:before\nDTSTART:20240430T230000Z\n"
               "DTEND:20240501T000000Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:across\nDTSTART:20240430T230000Z\n"
               "DTEND:20240501T000001Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:after\nDTSTART:20240601T000000Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:point\nDTSTART:20240501T000000Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:weekly\nDTSTART:20200101T120000Z\n"
               "RRULE:FREQ=WEEKLY\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:old\nDTSTART:20200101T120000Z\n"
               "RRULE:FREQ=WEEKLY;COUNT=10\nEND:VEVENT\n"),
      utc(2024, 5, 1), utc(2024, 6, 1));
  BOOST_TEST(r.errors.empty());
  // 2020-01-01 was a Wednesday; the Wednesdays of May 2024: 1, 8, 15, 22, 29.
  BOOST_TEST(ids(r) ==
             (std::vector<std::string>{
                 "across", "point", "weekly/20240501T120000Z",
                 "weekly/20240508T120000Z", "weekly/20240515T120000Z",
                 "weekly/20240522T120000Z", "weekly/20240529T120000Z"}));
  BOOST_TEST(r.outside == 3u);
}

BOOST_AUTO_TEST_CASE(instances_per_event_max_stops_a_series) {
  icalendar_limits limits;
  limits.instances_per_event_max = 5;
  const ical_result r = read_limited(
      calendar(
          "BEGIN:VEVENT\nUID:d\nDTSTART:20240501T090000Z\n"
          "RRULE:FREQ=DAILY\nEND:VEVENT\n"
          "BEGIN:VEVENT\nUID:next\nDTSTART:20240501T090000Z\nEND:VEVENT\n"),
      limits);
  // The first five instances, then the error, then the next event.
  BOOST_TEST(r.order == "iiiiiei");
  BOOST_REQUIRE_EQUAL(r.items.size(), 6u);
  BOOST_TEST(r.items[4].external_id == "d/20240505T090000Z");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 7u);
  BOOST_TEST(contains(r.errors[0].reason, "instances_per_event_max"));
  BOOST_TEST(r.errors[0].excerpt == "RRULE:FREQ=DAILY");
}

BOOST_AUTO_TEST_CASE(costly_rules_are_refused) {
  icalendar_limits limits;
  limits.recurrence_steps_max = 1000;
  const ical_result r = read_limited(
      calendar(
          "BEGIN:VEVENT\nUID:hourly\nDTSTART:20240501T090000Z\n"
          "RRULE:FREQ=HOURLY\nEND:VEVENT\n"
          "BEGIN:VEVENT\nUID:never\nDTSTART:20240501T090000Z\n"
          "RRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30\nEND:VEVENT\n"
          "BEGIN:VEVENT\nUID:sixth\nDTSTART:20240501T090000Z\n"
          "RRULE:FREQ=MONTHLY;BYDAY=6MO\nEND:VEVENT\n"
          "BEGIN:VEVENT\nUID:long\nDTSTART:20000101T090000Z\n"
          "RRULE:FREQ=DAILY;COUNT=100000\nEND:VEVENT\n"
          "BEGIN:VEVENT\nUID:rare\nDTSTART:20240501T090000Z\n"
          "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=1\nEND:VEVENT\n"),
      limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 4u);
  BOOST_TEST(contains(r.errors[0].reason, "FREQ=HOURLY"));
  BOOST_TEST(r.errors[0].line == 7u);
  BOOST_TEST(r.errors[1].reason == "RRULE never matches");
  BOOST_TEST(r.errors[2].reason == "RRULE never matches");
  BOOST_TEST(contains(r.errors[3].reason, "recurrence_steps_max"));
  // A rule that matches once in four years is fine: DTSTART and 2028-02-29.
  BOOST_TEST(ids(r) == (std::vector<std::string>{"rare/20240501T090000Z",
                                                 "rare/20280229T090000Z"}));
}

// -- errors -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_event_without_uid_gets_a_stable_derived_one) {
  auto text = [](const std::string &summary) {
    return calendar("BEGIN:VEVENT\nDTSTART:20240502T143000Z\nSUMMARY:" +
                    summary +
                    "\nORGANIZER:mailto:ann@example.org\nEND:VEVENT\n"
                    "BEGIN:VEVENT\nUID:ok\nDTSTART:20240502T143000Z\nEND:VEVENT\n"
                    "BEGIN:VEVENT\nUID:nostart\nEND:VEVENT\n");
  };
  const ical_result r = read_text(text("Lunch"));
  BOOST_TEST(r.order == "iie");
  BOOST_REQUIRE_EQUAL(r.items.size(), 2u);
  const std::string id = r.items[0].external_id;
  BOOST_TEST(id.rfind("derived:", 0) == 0u, id);
  BOOST_TEST(id.size() == 24u);
  BOOST_TEST(r.items[0].series_id == id);
  BOOST_TEST(r.errors[0].reason == "VEVENT without DTSTART");
  // The same event read again gets the same UID; another summary another.
  BOOST_TEST(read_text(text("Lunch")).items[0].external_id == id);
  BOOST_TEST(read_text(text("Dinner")).items[0].external_id != id);
  BOOST_TEST(derived_event_uid("20240502T143000Z", "", "Lunch", "") !=
             derived_event_uid("20240502T143000Z", "Europe/Berlin", "Lunch", ""));
}

BOOST_AUTO_TEST_CASE(a_bad_dtstart_is_an_error_with_its_line) {
  const ical_result r = read_text(calendar(
      "BEGIN:VEVENT\nUID:a\nSUMMARY:x\nDTSTART:garbage\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:b\nDTSTART:20240230T090000Z\nEND:VEVENT\n"
      "BEGIN:VEVENT\nUID:c\nDTSTART:20240502T143000Z\nDTEND;TZID=X:2024\n"
      "END:VEVENT\n"
      "BEGIN:VEVENT\nUID:d\nDTSTART:20240502T143000Z\nSUMMARY:\nLOCATION:\n"
      "STATUS:NOT-A-STATUS\nEND:VEVENT\n"));
  BOOST_TEST(r.order == "eeei");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 3u);
  // libical refuses the value, inserts X-LIC-ERROR and drops the property.
  BOOST_TEST(r.errors[0].line == 7u);
  BOOST_TEST(r.errors[0].reason ==
             "bad DTSTART (libical: Can't parse as DATE-TIME value in DTSTART "
             "property)");
  BOOST_TEST(r.errors[0].excerpt == "DTSTART:garbage");
  // libical accepts 30 February; the reader does not.
  BOOST_TEST(r.errors[1].line == 11u);
  BOOST_TEST(r.errors[1].reason == "bad DTSTART (no such date or time)");
  BOOST_TEST(r.errors[1].excerpt == "DTSTART:20240230T090000Z");
  BOOST_TEST(r.errors[2].line == 16u);
  BOOST_TEST(contains(r.errors[2].reason, "bad DTEND"));
  // An empty SUMMARY or an unknown STATUS only loses that property.
  BOOST_TEST(r.items[0].external_id == "d");
  BOOST_TEST(r.items[0].summary == "");
}

BOOST_AUTO_TEST_CASE(a_line_over_line_bytes_max_skips_its_event_only) {
  icalendar_limits limits;
  limits.line_bytes_max = 100;
  const ical_result r = read_limited(
      calendar(
          "BEGIN:VEVENT\nUID:big\nDTSTART:20240502T143000Z\n"
          "DESCRIPTION:" +
          std::string(500, 'x') +
          "\nEND:VEVENT\n"
          "BEGIN:VEVENT\nUID:good\nDTSTART:20240502T143000Z\nEND:VEVENT\n"),
      limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 7u);
  BOOST_TEST(r.errors[0].reason == "line longer than 100 bytes");
  BOOST_TEST(r.errors[0].excerpt == "DESCRIPTION:" + std::string(48, 'x'));
  BOOST_TEST(ids(r) == (std::vector<std::string>{"good"}));
  BOOST_TEST(r.items[0].position == 9u);
}

BOOST_AUTO_TEST_CASE(a_component_over_component_bytes_max_is_skipped) {
  icalendar_limits limits;
  limits.component_bytes_max = 1000;
  std::string body = "BEGIN:VEVENT\nUID:huge\nDTSTART:20240502T143000Z\n"
                     "DESCRIPTION:start\n";
  for (int i = 0; i < 100; ++i)
    body += " " + std::string(70, 'A') + "\n";
  body += "END:VEVENT\nBEGIN:VEVENT\nUID:good\nDTSTART:20240502T143000Z\n"
          "END:VEVENT\n";
  const ical_result r = read_limited(calendar(body), limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].reason == "VEVENT longer than 1000 bytes");
  BOOST_TEST(r.errors[0].line == 7u); // the folded DESCRIPTION
  BOOST_TEST(ids(r) == (std::vector<std::string>{"good"}));
}

BOOST_AUTO_TEST_CASE(an_event_without_end_is_an_error) {
  const ical_result r = read_text(
      calendar("BEGIN:VEVENT\nUID:cut\nDTSTART:20240502T143000Z\n"
               "BEGIN:VEVENT\nUID:next\nDTSTART:20240502T143000Z\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:last\nDTSTART:20240502T143000Z\n"));
  BOOST_TEST(r.order == "eie");
  BOOST_TEST(r.errors[0].line == 4u);
  BOOST_TEST(r.errors[0].reason ==
             "VEVENT has no END:VEVENT (next BEGIN:VEVENT at line 7)");
  BOOST_TEST(r.errors[1].line == 11u);
  BOOST_TEST(r.errors[1].reason ==
             "VEVENT has no END:VEVENT (next END:VCALENDAR at line 14)");
  BOOST_TEST(r.items[0].external_id == "next");
}

BOOST_AUTO_TEST_CASE(input_that_is_not_an_icalendar_file) {
  std::istringstream in{"\n\nBEGIN:VCARD\nFN:Jane\nEND:VCARD\n"};
  icalendar_reader reader{in, wide_from, wide_to};
  calendar_event_item item;
  std::optional<icalendar_error> error;
  BOOST_REQUIRE(reader.next(item, error));
  BOOST_REQUIRE(error.has_value());
  BOOST_TEST(error->line == 1u);
  BOOST_TEST(error->reason == "not an iCalendar file");
  BOOST_TEST(error->excerpt == "BEGIN:VCARD");
  BOOST_TEST(!reader.next(item, error));
  std::istringstream empty{""};
  icalendar_reader none{empty, wide_from, wide_to};
  BOOST_TEST(!none.next(item, error));
  BOOST_TEST(!error.has_value());
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_an_error_of_its_event) {
  const ical_result r = read_text(
      calendar("BEGIN:VEVENT\nUID:bad\nDTSTART:20240502T143000Z\n"
               "SUMMARY:Bad \xC3\x28 \x01 value\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:fine\nDTSTART:20240502T143000Z\n"
               "DESCRIPTION:not read, so not checked \xFF\nEND:VEVENT\n"));
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 7u);
  BOOST_TEST(r.errors[0].reason == "invalid UTF-8 in SUMMARY");
  BOOST_TEST(r.errors[0].excerpt == "SUMMARY:Bad ?( ? value");
  BOOST_TEST(ids(r) == (std::vector<std::string>{"fine"}));
}

BOOST_AUTO_TEST_CASE(vtimezone_errors_and_timezones_max) {
  icalendar_limits limits;
  limits.timezones_max = 2;
  auto zone = [](const std::string &id, const std::string &offset) {
    return "BEGIN:VTIMEZONE\nTZID:" + id +
           "\nBEGIN:STANDARD\n"
           "DTSTART:19700101T000000\nTZOFFSETFROM:" +
           offset + "\nTZOFFSETTO:" + offset +
           "\nEND:STANDARD\nEND:VTIMEZONE\n";
  };
  const ical_result r = read_limited(
      calendar(zone("A/One", "+0100") + zone("A/One", "+0100") +
               zone("A/Two", "+0200") + zone("A/Three", "+0300") +
               "BEGIN:VTIMEZONE\nBEGIN:STANDARD\nEND:STANDARD\nEND:VTIMEZONE\n"
               "BEGIN:VEVENT\nUID:e\nDTSTART;TZID=A/Three:20240502T120000\n"
               "END:VEVENT\n"
               "BEGIN:VEVENT\nUID:f\nDTSTART;TZID=A/Two:20240502T120000\n"
               "END:VEVENT\n"),
      limits);
  // The repeated A/One is free; A/Three is one too many.
  BOOST_REQUIRE_EQUAL(r.errors.size(), 2u);
  BOOST_TEST(r.errors[0].reason == "more than 2 VTIMEZONEs (timezones_max)");
  BOOST_TEST(r.errors[0].line == 28u);
  BOOST_TEST(r.errors[1].reason == "VTIMEZONE without TZID");
  BOOST_REQUIRE_EQUAL(r.items.size(), 2u);
  BOOST_TEST(r.items[0].start_unix_s == utc(2024, 5, 2, 12)); // floating
  BOOST_TEST(r.items[0].timezone == "");
  BOOST_TEST(r.items[1].start_unix_s == utc(2024, 5, 2, 10));
  BOOST_TEST(r.items[1].timezone == "A/Two");
}

// libical expands a zone at least to its own reading of the current year,
// whatever the window: a zone whose costly rules start after an old
// window is refused all the same (it once passed, counted only up to the
// window's years).
BOOST_AUTO_TEST_CASE(a_costly_zone_is_refused_whatever_the_window) {
  std::string days;
  for (int d = 1; d <= 28; ++d)
    days += (d > 1 ? "," : "") + std::to_string(d);
  const std::string zone =
      "BEGIN:VTIMEZONE\nTZID:Costly/Zone\nBEGIN:STANDARD\n"
      "DTSTART:20210101T000000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n"
      "RRULE:FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYMONTHDAY=" +
      days + "\nEND:STANDARD\nEND:VTIMEZONE\n";
  const std::string event = "BEGIN:VEVENT\nUID:c\nDTSTART;TZID=Costly/Zone:"
                            "20000502T120000\nEND:VEVENT\n";
  for (auto year : {2000, 2026}) {
    std::istringstream in{calendar(zone + event)};
    const ical_result r = read_all(in, utc(year, 1, 1), utc(year + 1, 1, 1));
    BOOST_TEST_CONTEXT("window in " << year) {
      BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
      BOOST_TEST(r.errors[0].reason
                     .find("VTIMEZONE changes offset more than") == 0u,
                 r.errors[0].reason);
    }
  }
}

// A zone's changes are counted without iterating when a bound of them is
// within the limit; a rule whose bound is loose (BYSETPOS picks one of up
// to five Sundays a month) is iterated, so the same zone is kept as before.
BOOST_AUTO_TEST_CASE(a_zone_with_a_loose_bound_is_counted_exactly) {
  const std::string zone =
      "BEGIN:VTIMEZONE\nTZID:Loose/Zone\n"
      "BEGIN:STANDARD\nDTSTART:16011028T030000\nTZOFFSETFROM:+0200\n"
      "TZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=SU;BYSETPOS=-1\n"
      "END:STANDARD\n"
      "BEGIN:DAYLIGHT\nDTSTART:16010325T020000\nTZOFFSETFROM:+0100\n"
      "TZOFFSETTO:+0200\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1\n"
      "END:DAYLIGHT\nEND:VTIMEZONE\n";
  const std::string event = "BEGIN:VEVENT\nUID:l\nDTSTART;TZID=Loose/Zone:"
                            "20240702T120000\nEND:VEVENT\n";
  std::istringstream in{calendar(zone + event)};
  const ical_result r = read_all(in, utc(2024, 1, 1), utc(2025, 1, 1));
  BOOST_TEST(r.errors.empty());
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  BOOST_TEST(r.items[0].start_unix_s == utc(2024, 7, 2, 10));
  BOOST_TEST(r.items[0].timezone == "Loose/Zone");
}

// -- the real exports ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_real_file_reads_to_the_end) {
  std::size_t files = 0;
  std::size_t items = 0;
  std::size_t errors = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator{real_ical_dir()}) {
    if (entry.path().extension() != ".ics")
      continue;
    std::ifstream in{entry.path(), std::ios::binary};
    BOOST_REQUIRE(in);
    const ical_result r = read_all(in, utc(1990, 1, 1), utc(2030, 1, 1));
    for (const auto &e : r.errors)
      BOOST_TEST_MESSAGE(entry.path().filename().string()
                         << ":" << e.line << ": " << e.reason);
    for (const auto &i : r.items) {
      BOOST_TEST(i.end_unix_s >= i.start_unix_s);
      BOOST_TEST(!i.external_id.empty());
    }
    BOOST_TEST(r.bytes == std::filesystem::file_size(entry.path()));
    items += r.items.size();
    errors += r.errors.size();
    ++files;
  }
  BOOST_TEST_MESSAGE(files << " real files: " << items << " items, " << errors
                           << " errors");
  BOOST_TEST(files >= 35u);
  BOOST_TEST(items >= 1000u);
}

BOOST_AUTO_TEST_CASE(real_outlook_2010_with_vtimezone_and_tzid) {
  const ical_result r = read_real("biweekly_outlook-2010.ics");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  const calendar_event_item &e = r.items[0];
  // The UID is folded with a tab (lines 41-42).
  BOOST_TEST(e.external_id ==
             "040000009200E00074C5B7101A82E00800000000C0383BE68041CE010000000"
             "0000000001000000070D00A2F625AC34BB6542DE0D19E67E1");
  BOOST_TEST(e.series_id == e.external_id);
  BOOST_TEST(e.summary == "Team Meeting");
  BOOST_TEST(e.location == "Auditorium 16");
  // "Eastern Standard Time" is the file's VTIMEZONE: DST from the second
  // Sunday of March, so 2013-06-10 12:00 is UTC-4: 16:00Z to 17:00Z.
  BOOST_TEST(e.timezone == "Eastern Standard Time");
  BOOST_TEST(e.start_unix_s == utc(2013, 6, 10, 16));
  BOOST_TEST(e.end_unix_s == utc(2013, 6, 10, 17));
  BOOST_TEST(e.busy);
  BOOST_TEST(!e.cancelled);
  // johndoe's address is folded with a tab inside "exam-ple".
  BOOST_TEST(
      e.attendee_emails ==
      (std::vector<std::string>{"johndoe@example.com", "janedoe@example.com",
                                "bobsmith@example.com"}));
  BOOST_TEST(e.position == 21u);
}

BOOST_AUTO_TEST_CASE(real_google_export_with_tzid_and_until) {
  // DTSTART;TZID=/America/New_York:20161219T090000 (Google's slash), daily
  // UNTIL=20161223T140000Z: 09:00 EST is 14:00Z, five days, the last one
  // equal to UNTIL.
  const ical_result r = read_real("biweekly_pr63.ics");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_TEST(ids(r) ==
             (std::vector<std::string>{
                 "pdhtelaeqstgnbr9f0hrdioij0@google.com/20161219T140000Z",
                 "pdhtelaeqstgnbr9f0hrdioij0@google.com/20161220T140000Z",
                 "pdhtelaeqstgnbr9f0hrdioij0@google.com/20161221T140000Z",
                 "pdhtelaeqstgnbr9f0hrdioij0@google.com/20161222T140000Z",
                 "pdhtelaeqstgnbr9f0hrdioij0@google.com/20161223T140000Z"}));
  BOOST_TEST(r.items[0].summary == "Daily Until 12/23");
  BOOST_TEST(r.items[0].location == ""); // "LOCATION:" is empty
  BOOST_TEST(r.items[0].timezone == "/America/New_York");
  BOOST_TEST(r.items[4].end_unix_s == utc(2016, 12, 23, 15));
}

BOOST_AUTO_TEST_CASE(real_google_export_in_utc_with_alarms) {
  const ical_result r = read_real("icalendar_alarm_google_future.ics");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  const calendar_event_item &e = r.items[0];
  BOOST_TEST(e.external_id == "79fs7pkqvht9m5igs0vjv1sfra@google.com");
  BOOST_TEST(e.summary == "event with alarms");
  BOOST_TEST(e.start_unix_s == utc(2024, 10, 4, 18, 15));
  BOOST_TEST(e.end_unix_s == utc(2024, 10, 4, 19));
  // The e-mail alarm's ATTENDEE belongs to the VALARM, not the event.
  BOOST_TEST(e.attendee_emails.empty());
}

BOOST_AUTO_TEST_CASE(real_recurring_event_with_rdate_exdate_and_overrides) {
  // Zimbra, America/Los_Angeles from the file (US rules: DST from the second
  // Sunday of March to the first Sunday of November). Master: first Tuesday
  // of each month 10:00-10:30 from 2012-10-02, RDATEs 2012-11-05, 11-10 and
  // 11-30 10:00, EXDATEs 2012-12-04, 2013-02-05 and 2013-04-02 10:00.
  // Window: 2012-10-01 to 2013-05-01. 10:00 PDT (UTC-7) is 17:00Z; 10:00
  // PST (UTC-8, from 2012-11-04 to 2013-03-10) is 18:00Z.
  const ical_result r = read_real("icaljs_recur_instances.ics",
                                  utc(2012, 10, 1), utc(2013, 5, 1));
  // The second VTIMEZONE has no TZID.
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 21u);
  BOOST_TEST(r.errors[0].reason == "VTIMEZONE without TZID");
  const std::string uid = "623c13c0-6c2b-45d6-a12b-c33ad61c4868/";
  BOOST_TEST(ids(r) ==
             (std::vector<std::string>{
                 uid + "20121002T170000Z", uid + "20121105T180000Z",
                 uid + "20121106T180000Z", uid + "20121110T180000Z",
                 uid + "20121130T180000Z", uid + "20130101T180000Z",
                 uid + "20130305T180000Z",
                 // the overrides, read after the master
                 uid + "20121002T170000Z", uid + "20121105T180000Z"}));
  BOOST_TEST(r.items[0].start_unix_s == utc(2012, 10, 2, 17));
  BOOST_TEST(r.items[0].end_unix_s == utc(2012, 10, 2, 17, 30));
  BOOST_TEST(r.items[0].summary == "Crazy Event Thingy!");
  BOOST_TEST(r.items[0].location == "PLACE");
  BOOST_TEST(r.items[0].timezone == "America/Los_Angeles");
  BOOST_TEST(r.items[0].attendee_emails ==
             (std::vector<std::string>{
                 "calmozilla1@gmail.com", "james@lightsofapollo.com",
                 "iam.revelation@gmail.com", "jlal@mozilla.com"}));
  // Override 1: 15:00-15:30 PDT; override 2 (RECURRENCE-ID in UTC): moved
  // to 2012-11-06 20:00 PST = 2012-11-07T04:00Z.
  BOOST_TEST(r.items[7].start_unix_s == utc(2012, 10, 2, 22));
  BOOST_TEST(r.items[7].position == 56u);
  BOOST_TEST(r.items[8].start_unix_s == utc(2012, 11, 7, 4));
  BOOST_TEST(r.items[8].end_unix_s == utc(2012, 11, 7, 4, 30));
}

BOOST_AUTO_TEST_CASE(real_until_floating_respects_the_event_zone) {
  // Weekly Mondays 18:30 America/New_York from 2013-09-23, UNTIL=
  // 20131118T183000 without Z: taken in the event's zone (as sabre/vobject
  // does), so 18 November is included: nine instances. 18:30 EDT (UTC-4)
  // is 22:30Z until 3 November, then EST (UTC-5): 23:30Z.
  const ical_result r = read_real("sabre_UntilRespectsTimezoneTest.ics");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.items.size(), 9u);
  BOOST_TEST(r.items[0].external_id ==
             "10621-1440@ccbchurch.com/20130923T223000Z");
  BOOST_TEST(r.items[5].start_unix_s == utc(2013, 10, 28, 22, 30));
  BOOST_TEST(r.items[6].start_unix_s == utc(2013, 11, 4, 23, 30));
  BOOST_TEST(r.items[8].external_id ==
             "10621-1440@ccbchurch.com/20131118T233000Z");
  BOOST_TEST(r.items[8].end_unix_s == utc(2013, 11, 19, 1, 30));
}

BOOST_AUTO_TEST_CASE(real_file_with_a_byte_order_mark) {
  const ical_result r = read_real("icalendar_bom_calendar.ics");
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(r.items.empty());
  BOOST_TEST(r.lines == 2u);
  BOOST_TEST(r.bytes == 35u);
}

BOOST_AUTO_TEST_CASE(real_google_birthdays_all_day) {
  // The first VEVENT has RDATE:20131210Z, which libical refuses; the other
  // three are all-day overrides of the birthday series.
  const ical_result r = read_real("icaljs_google_birthday.ics");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 12u);
  BOOST_TEST(r.errors[0].excerpt == "RDATE:20131210Z");
  const std::string uid = "BIRTHDAY_79d389868f96182e@google.com";
  BOOST_TEST(ids(r) ==
             (std::vector<std::string>{uid + "/20121210", uid + "/20131210",
                                       uid + "/20141210"}));
  for (const auto &i : r.items) {
    BOOST_TEST(i.all_day);
    BOOST_TEST(i.series_id == uid);
    BOOST_TEST(i.summary == "PErson #2's birthday");
    BOOST_TEST(i.end_unix_s - i.start_unix_s == 86400);
  }
  BOOST_TEST(r.items[1].start_unix_s == utc(2013, 12, 10));
  BOOST_TEST(r.items[1].attendee_emails ==
             (std::vector<std::string>{
                 "4dhmurjkc5hn8sq0ctp6utbg5pr2sor1dhimsp31e8n6errfctm6abj3dtmg@"
                 "virtual"}));
}

BOOST_AUTO_TEST_CASE(real_thunderbird_zone_with_its_whole_history) {
  // Europe/London as Thunderbird writes it: 85 observances since 1847, 28
  // of them with RRULE. 2024-10-23 15:00 is BST (UTC+1): 14:00Z.
  const ical_result r = read_real("icalendar_alarm_thunderbird_future.ics");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.items.size(), 1u);
  BOOST_TEST(r.items[0].start_unix_s == utc(2024, 10, 23, 14));
  BOOST_TEST(r.items[0].timezone == "Europe/London");
}

BOOST_AUTO_TEST_CASE(real_korganizer_export) {
  const ical_result r = read_real("kcalendarcore_KOrganizer_3.2.ics");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  // ORGANIZER:MAILTO:nobody@nowhere; the second event is TRANSPARENT and
  // weekly on Mondays, COUNT=2, from Tuesday 2003-12-09 (DTSTART counts as
  // an instance too); the last is a two-day all-day event every second
  // month, COUNT=2.
  BOOST_TEST(ids(r) == (std::vector<std::string>{
                           "KOrganizer-101218390.515",
                           "KOrganizer-178854360.121/20031209T091500Z",
                           "KOrganizer-178854360.121/20031215T091500Z",
                           "KOrganizer-178854360.121/20031222T091500Z",
                           "KOrganizer-581715779.572",
                           "KOrganizer-367556625.513/20031210",
                           "KOrganizer-367556625.513/20040210"}));
  BOOST_TEST(r.items[0].attendee_emails ==
             (std::vector<std::string>{"nobody@nowhere"}));
  BOOST_TEST(!r.items[1].busy);
  BOOST_TEST(r.items[6].start_unix_s == utc(2004, 2, 10));
  BOOST_TEST(r.items[6].end_unix_s == utc(2004, 2, 12));
}

// -- volume
// ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_generated_stream_of_100000_events) {
  generated_events source{100000};
  std::istream in{&source};
  const auto began = std::chrono::steady_clock::now();
  icalendar_reader reader{in, utc(2024, 1, 1), utc(2040, 1, 1)};
  calendar_event_item item;
  std::optional<icalendar_error> error;
  std::size_t count = 0;
  while (reader.next(item, error)) {
    BOOST_REQUIRE(!error.has_value());
    if (count == 0 || count == 99999) {
      const std::string n = std::to_string(count);
      BOOST_TEST(item.external_id == "event-" + n + "@example.com");
      BOOST_TEST(item.summary == "Meeting number " + n);
      BOOST_TEST(item.start_unix_s ==
                 utc(2024, 1, 1) + static_cast<std::int64_t>(count) * 3600);
      BOOST_TEST(item.end_unix_s - item.start_unix_s == 1800);
      BOOST_TEST(item.attendee_emails.size() == 1u);
      BOOST_TEST(item.position == count * 11 + 4);
    }
    ++count;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
          .count();
  BOOST_TEST_MESSAGE("100000 generated events read in " << seconds << " s");
  BOOST_TEST(count == 100000u);
  BOOST_TEST(reader.line() == 100000u * 11 + 4);
  BOOST_TEST(reader.bytes_read() == source.bytes_made());
}

BOOST_AUTO_TEST_SUITE_END()
