// SPDX-License-Identifier: Apache-2.0
// Generations end to end on a real database: slots in the user's own zone
// across a daylight-saving change and in a half-hour zone, snoozed and
// accepted contacts skipped, and many users on few connections giving the
// same results as one user at a time.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "actors/engine_core.hpp"
#include "storage/migrations.hpp"
#include "tests/support/test_clock.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

struct fixture {
  test::test_database db;

  std::unique_ptr<engine_core> start(std::int64_t connections,
                                std::int64_t concurrent_users) {
    config::settings s;
    s.database.url = db.url();
    s.database.connections_max = connections;
    s.generation.concurrent_users_max = concurrent_users;
    engine_options o;
    o.clock = test::standing_clock();
    return std::make_unique<engine_core>(s, o);
  }

  // A user in `zone` with default availability, no calendar and
  // `contacts` never-contacted contacts, added long ago (so due), named
  // c01, c02, ...
  std::string make_user(const std::string& zone, int contacts) {
    auto id = db.query("INSERT INTO users (email, timezone) VALUES ('"
                       + zone + "@example.org', '" + zone
                       + "') RETURNING id")[0];
    db.query("INSERT INTO contacts (user_id, name, created_at) SELECT '" + id
             + "', 'c' || lpad(i::text, 2, '0'), "
             "'2000-01-01T00:00:00Z' FROM generate_series(1, "
             + std::to_string(contacts) + ") i RETURNING 1");
    return id;
  }
};

std::vector<std::int64_t> slot_starts(const generation_result& r) {
  std::vector<std::int64_t> out;
  for (auto& s : r.items)
    out.push_back(s.slot_start_unix_s);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_generation, fixture)

BOOST_AUTO_TEST_CASE(berlin_slots_keep_their_wall_clock_across_the_autumn_change) {
  auto eng = start(2, 2);
  auto user = make_user("Europe/Berlin", 8);
  // Friday 2026-10-23 12:00Z; clocks go back on Sunday 25 October at 01:00Z.
  auto r = eng->generate(user, 1792756800);
  // Weekday evenings 18:00 and 19:00, weekends 10:00 and 11:00 local time:
  // UTC+2 until the change, UTC+1 after it.
  std::vector<std::int64_t> expected = {
    1792771200, // Fri 23 Oct 18:00 CEST = 16:00Z
    1792774800, // Fri 19:00 CEST = 17:00Z
    1792828800, // Sat 24 Oct 10:00 CEST = 08:00Z
    1792832400, // Sat 11:00 CEST = 09:00Z
    1792918800, // Sun 25 Oct 10:00 CET = 09:00Z
    1792922400, // Sun 11:00 CET = 10:00Z
    1793034000, // Mon 26 Oct 18:00 CET = 17:00Z
    1793037600, // Mon 19:00 CET = 18:00Z
  };
  BOOST_TEST(slot_starts(r) == expected, boost::test_tools::per_element());
  for (auto& s : r.items) {
    BOOST_TEST(s.slot_timezone == "Europe/Berlin");
    BOOST_TEST(s.slot_end_unix_s - s.slot_start_unix_s == 3600);
  }
  // What was stored is what was returned.
  auto stored = eng->suggestions(user);
  BOOST_REQUIRE_EQUAL(stored.size(), r.items.size());
  for (std::size_t i = 0; i < stored.size(); ++i)
    BOOST_TEST(stored[i].slot_start_unix_s == expected[i]);
}

BOOST_AUTO_TEST_CASE(kolkata_slots_fall_on_the_half_hour_in_utc) {
  auto eng = start(2, 2);
  auto user = make_user("Asia/Kolkata", 4);
  // Monday 2026-11-23 00:00Z; Kolkata is UTC+05:30 all year.
  auto r = eng->generate(user, 1795392000);
  std::vector<std::int64_t> expected = {
    1795437000, // Mon 18:00 IST = 12:30Z
    1795440600, // Mon 19:00 IST = 13:30Z
    1795523400, // Tue 18:00 IST = 12:30Z
    1795527000, // Tue 19:00 IST = 13:30Z
  };
  BOOST_TEST(slot_starts(r) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(snoozed_and_accepted_contacts_are_skipped_until_due_again) {
  auto eng = start(2, 2);
  auto user = make_user("UTC", 6);
  std::int64_t now = 1795392000;
  auto first = eng->generate(user, now);
  BOOST_REQUIRE_EQUAL(first.items.size(), 6u);
  auto snoozed = first.items[0].contact_id;
  auto accepted = first.items[1].contact_id;
  auto at = [](std::int64_t t) {
    return "to_timestamp(" + std::to_string(t) + ")";
  };
  db.query("UPDATE suggestions SET status = 'snoozed', snoozed_until = "
           + at(now + 86400) + " WHERE contact_id = '" + snoozed
           + "' RETURNING 1");
  db.query("UPDATE suggestions SET status = 'accepted' WHERE contact_id = '"
           + accepted + "' RETURNING 1");
  auto second = eng->generate(user, now);
  BOOST_TEST(second.items.size() == 4u);
  for (auto& s : second.items) {
    BOOST_TEST(s.contact_id != snoozed);
    BOOST_TEST(s.contact_id != accepted);
  }
  // After the snooze and the accepted slot have passed, both come back.
  auto later = eng->generate(user, now + 15 * 86400);
  std::set<std::string> ids;
  for (auto& s : later.items)
    ids.insert(s.contact_id);
  BOOST_TEST(ids.count(snoozed) == 1u);
  BOOST_TEST(ids.count(accepted) == 1u);
}

BOOST_AUTO_TEST_CASE(a_fully_busy_calendar_gives_no_suggestions_and_says_why) {
  auto eng = start(2, 2);
  auto user = make_user("UTC", 5);
  std::int64_t now = 1795392000;
  BOOST_REQUIRE_EQUAL(eng->generate(user, now).items.size(), 5u);
  db.query("INSERT INTO calendar_events (user_id, external_id, start_time, "
           "end_time) VALUES ('" + user + "', 'away', to_timestamp("
           + std::to_string(now - 3600) + "), to_timestamp("
           + std::to_string(now + 15 * 86400) + ")) RETURNING 1");
  // Written behind the engine's back: the cached calendar is still the
  // empty one until the host says what it changed.
  BOOST_TEST(eng->generate(user, now).free_slots == 28);
  eng->invalidate(user);
  auto r = eng->generate(user, now);
  BOOST_TEST(r.free_slots == 0);
  BOOST_TEST(r.suggestions == 0);
  BOOST_TEST(r.contacts_read == 0); // K = 0: nothing is read
  BOOST_REQUIRE_EQUAL(r.warnings.size(), 1u);
  BOOST_TEST(r.warnings[0].find("no free slot") != std::string::npos);
  // The earlier pending suggestions, now without a slot, are replaced.
  BOOST_TEST(eng->suggestions(user).empty());
}

BOOST_AUTO_TEST_CASE(a_callback_that_throws_leaves_at_once_and_the_run_goes_on) {
  storage::seed_options opts;
  opts.users = 100; // more than the 64 reports the coordinator leaves unacked
  opts.contacts_per_user = 5;
  opts.seed = 91;
  opts.now_unix_s = 1795000000;
  auto eng = start(4, 64);
  eng->seed(opts);
  std::size_t calls = 0;
  BOOST_CHECK_EXCEPTION(
    eng->generate_all(opts.now_unix_s,
                      [&](const generation_result&, std::size_t, std::size_t) {
                        if (++calls == 3)
                          throw std::runtime_error("the host gave up");
                      }),
    std::runtime_error,
    [](const std::runtime_error& e) {
      return std::string{e.what()} == "the host gave up";
    });
  BOOST_TEST(calls == 3u); // never called again after it threw
  // The abandoned run finishes on its own: every user gets generated (a
  // run whose reports nobody acknowledged would stop at 64 unacked).
  auto generations = [&] {
    for (auto& m : eng->metrics().snapshot())
      if (m.name == "catchup_generations_total")
        return m.value;
    return 0.0;
  };
  const auto deadline = std::chrono::steady_clock::now()
                        + std::chrono::seconds(60);
  while (generations() < 100.0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(generations() == 100.0);
  auto next = eng->generate_all(opts.now_unix_s, {});
  BOOST_TEST(next.users == 100);
  BOOST_TEST(next.failed == 0);
}

BOOST_AUTO_TEST_CASE(two_hundred_users_on_four_connections_match_one_at_a_time) {
  storage::seed_options opts;
  opts.users = 200;
  opts.contacts_per_user = 40;
  opts.now_unix_s = 1795000000;
  std::map<std::string, generation_result> together;
  {
    // More user generations at once than connections: they must queue at
    // the repository, never wait on each other for a connection.
    auto eng = start(4, 64);
    eng->seed(opts);
    std::size_t last_done = 0;
    auto summary = eng->generate_all(
      opts.now_unix_s,
      [&](const generation_result& r, std::size_t done, std::size_t total) {
        BOOST_TEST(done == last_done + 1); // one call per user, in order
        BOOST_TEST(total == 200u);
        last_done = done;
        BOOST_TEST(r.warnings.empty(), r.user_id << ": " << r.warnings.size());
        together[r.user_id] = r;
      });
    BOOST_TEST(last_done == 200u);
    BOOST_TEST(summary.users == 200);
    BOOST_TEST(summary.failed == 0);
    BOOST_REQUIRE_EQUAL(together.size(), 200u);
  }
  auto eng = start(1, 1);
  std::int64_t suggestions = 0;
  for (auto& [user, r] : together) {
    // A multi-user run reports results without items; they are stored.
    BOOST_TEST(r.items.empty());
    auto stored = eng->suggestions(user);
    BOOST_REQUIRE_EQUAL(stored.size(), static_cast<std::size_t>(r.suggestions));
    auto alone = eng->generate(user, opts.now_unix_s);
    suggestions += alone.suggestions;
    BOOST_REQUIRE_EQUAL(alone.items.size(), stored.size());
    for (std::size_t i = 0; i < alone.items.size(); ++i) {
      BOOST_TEST(alone.items[i].contact_id == stored[i].contact_id);
      BOOST_TEST(alone.items[i].slot_start_unix_s
                 == stored[i].slot_start_unix_s);
    }
  }
  BOOST_TEST(suggestions > 200);
}

BOOST_AUTO_TEST_SUITE_END()
