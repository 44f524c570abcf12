// SPDX-License-Identifier: Apache-2.0
// The engine owns its time: with its clock set ten years before and ten
// years after today, a user's whole life cycle through the public API -
// import contacts and a calendar, generate, accept, dismiss, snooze,
// enqueue and let the dispatcher run the job - gives the same results,
// each instant relative to the clock. No call reads another "now".

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catchup/catchup.hpp>

#include "api_fixture.hpp"

using namespace catchup;
using namespace catchup::api_test;

namespace {

constexpr std::int64_t day_s = 86400;

// "20261118T094640Z" of a Unix time.
std::string ical_utc(std::int64_t unix_s) {
  auto days = unix_s >= 0 ? unix_s / day_s : (unix_s - day_s + 1) / day_s;
  auto secs = unix_s - days * day_s;
  // Civil date of a day count (H. Hinnant's algorithm).
  auto z = days + 719468;
  auto era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = z - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto y = yoe + era * 400;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto d = doy - (153 * mp + 2) / 5 + 1;
  auto m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    ++y;
  char out[128];
  std::snprintf(out, sizeof out, "%04lld%02lld%02lldT%02lld%02lld%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m),
                static_cast<long long>(d),
                static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return out;
}

// A calendar around `now`: friend i met 3 + 9i days ago (each contact
// overdue by another amount, so ranks never tie), and tomorrow's evening
// taken.
std::string calendar_around(std::int64_t now, int friends) {
  auto midnight = now - ((now % day_s) + day_s) % day_s;
  std::ostringstream out;
  out << "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//clock test//EN\r\n";
  for (int i = 0; i < friends; ++i) {
    auto met = now - (3 + 9 * i) * day_s;
    out << "BEGIN:VEVENT\r\nUID:met-" << i << "@clock\r\nDTSTAMP:"
        << ical_utc(now) << "\r\nDTSTART:" << ical_utc(met)
        << "\r\nDTEND:" << ical_utc(met + 3600)
        << "\r\nSUMMARY:Coffee\r\nATTENDEE:mailto:friend-life-" << i
        << "@example.org\r\nEND:VEVENT\r\n";
  }
  out << "BEGIN:VEVENT\r\nUID:busy@clock\r\nDTSTAMP:" << ical_utc(now)
      << "\r\nDTSTART:" << ical_utc(midnight + day_s + 17 * 3600)
      << "\r\nDTEND:" << ical_utc(midnight + day_s + 23 * 3600)
      << "\r\nSUMMARY:Taken\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  return out.str();
}

// What a person sees of one suggestion, its instants relative to now.
std::string seen(const suggestion& s, std::int64_t now) {
  std::ostringstream out;
  out << s.contact_name << " #" << s.rank << " " << to_string(s.status)
      << " [" << (s.slot_start_unix_s - now) << ", "
      << (s.slot_end_unix_s - now) << ") " << s.slot_timezone << ": "
      << s.reason;
  return out.str();
}

template <class T>
T must(result<T> r, const char* what) {
  BOOST_TEST_REQUIRE(r.ok(), what << ": " << (r.ok() ? "" : r.error().message));
  return std::move(*r);
}

// The life cycle on a fresh database with the engine's clock at
// `now_unix_s` (standing still, as a test clock may); every observation as
// text, instants relative to that now.
std::vector<std::string> life_cycle(std::int64_t now) {
  test::test_database db;
  auto cfg = config_for(db);
  cfg.clock_unix_ms = [now] { return now * 1000; };
  cfg.settings.push_back({"schedule.generate_interval_ms", "0"});
  cfg.settings.push_back({"node.poll_interval_ms", "50"});
  auto eng = must(engine::open(cfg), "open");
  std::vector<std::string> log;
  constexpr int friends = 12;

  user_profile p;
  p.email = "life@example.org";
  p.name = "Life";
  p.timezone = "UTC"; // no daylight saving: the same hours in any year
  auto user = must(eng.put_user(p), "put_user");

  import_params contacts;
  contacts.user_id = user;
  contacts.format = import_format::vcard;
  std::istringstream cards{vcards("life", friends)};
  auto c = must(eng.import_stream(cards, "life.vcf", contacts), "contacts");
  log.push_back("contacts " + std::to_string(c.inserted));

  import_params calendar;
  calendar.user_id = user;
  calendar.format = import_format::icalendar;
  std::istringstream events{calendar_around(now, friends)};
  auto e = must(eng.import_stream(events, "life.ics", calendar), "calendar");
  BOOST_TEST(e.inserted == friends + 1);
  BOOST_TEST(e.last_contact_moved == friends);
  log.push_back("events " + std::to_string(e.inserted) + ", contacts met "
                + std::to_string(e.last_contact_moved));

  auto summary = must(eng.generate(user), "generate");
  log.push_back("generated " + std::to_string(summary.suggestions));
  auto pending = must(eng.suggestions(user), "suggestions");
  for (auto& s : pending)
    log.push_back("pending " + seen(s, now));
  BOOST_TEST_REQUIRE(pending.size() >= 4u);

  log.push_back("accepted "
                + seen(must(eng.accept(user, pending[0].id), "accept"), now));
  log.push_back("dismissed "
                + seen(must(eng.dismiss(user, pending[1].id, "moved away"),
                            "dismiss"),
                       now));
  log.push_back("snoozed "
                + seen(must(eng.snooze(user, pending[2].id, now + 7 * day_s),
                            "snooze"),
                       now));
  // A snooze must end after now and within 90 days of it: both by the
  // engine's clock.
  auto past = eng.snooze(user, pending[3].id, now - 60);
  BOOST_TEST(!past.ok());
  log.push_back(std::string{"snooze into the past: "}
                + (past.ok() ? "accepted" : to_string(past.error().code)));
  auto far = eng.snooze(user, pending[3].id, now + 91 * day_s);
  BOOST_TEST(!far.ok());
  log.push_back(std::string{"snooze past 90 days: "}
                + (far.ok() ? "accepted" : to_string(far.error().code)));
  for (auto& s : must(eng.suggestions(user), "suggestions after"))
    log.push_back("still pending " + seen(s, now));

  // Enqueued "now" by the clock, so due at once for the dispatcher.
  must(eng.enqueue_generation(user), "enqueue");
  BOOST_TEST_REQUIRE(eng.start_dispatcher().ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::int64_t done = 0;
  while (done == 0 && std::chrono::steady_clock::now() < deadline) {
    done = must(eng.metrics(), "metrics").jobs_done;
    if (done == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(done == 1);
  BOOST_TEST(eng.stop_dispatcher(std::chrono::seconds(5)).ok());
  for (auto& s : must(eng.suggestions(user), "suggestions after the job"))
    log.push_back("after the job " + seen(s, now));
  for (auto& line : log)
    BOOST_TEST_MESSAGE(line);
  return log;
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_clock)

BOOST_AUTO_TEST_CASE(a_life_cycle_ten_years_before_and_after_today_is_the_same) {
  // 522 whole weeks (ten years and two days) keep the weekday and the time
  // of day, so the free slots fall on the same days of the week.
  constexpr std::int64_t shift_s = 522 * 7 * day_s;
  // Today as the database server sees it (this test reads no clock of its
  // own), and a fixed ordinary instant, so a failure can be replayed.
  test::test_database probe;
  auto today = std::stoll(
    probe.query("SELECT floor(extract(epoch FROM now()))::bigint").at(0));
  for (std::int64_t base : std::vector<std::int64_t>{today, now_unix_s}) {
    BOOST_TEST_CONTEXT("around " << base) {
      auto before = life_cycle(base - shift_s);
      auto after = life_cycle(base + shift_s);
      BOOST_TEST(before.size() > 10u);
      BOOST_TEST(before == after, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
