// SPDX-License-Identifier: Apache-2.0
// The engine facade on a real database: what a generation skips (paused
// users, excluded contacts), what it refuses (unknown users, unknown
// timezones), and that regenerating with the same "now" replaces rather
// than adds. Data comes from the deterministic seeder.

#include <boost/test/unit_test.hpp>

#include "actors/engine_core.hpp"
#include "storage/migrations.hpp"
#include "tests/support/test_clock.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

constexpr std::int64_t now = 1795000000; // 2026-11-18T11:06:40Z

struct fixture {
  test::test_database db;
  std::unique_ptr<engine_core> eng;
  std::string user;

  fixture() {
    config::settings s;
    s.database.url = db.url();
    s.database.connections_max = 2;
    engine_options o;
    o.clock = test::standing_clock();
    eng = std::make_unique<engine_core>(s, o);
    storage::seed_options opts;
    opts.users = 1;
    opts.contacts_per_user = 400;
    opts.now_unix_s = now;
    user = eng->seed(opts).user_ids.front();
    // Free evenings for the whole window, so slots never limit K here.
    db.query("DELETE FROM calendar_events RETURNING 1");
  }

  ec code_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const engine_error& e) {
      return e.code();
    }
    return ec::none;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_engine, fixture)

BOOST_AUTO_TEST_CASE(regenerating_replaces_the_pending_suggestions) {
  auto first = eng->generate(user, now);
  BOOST_TEST(first.suggestions > 0);
  auto second = eng->generate(user, now);
  BOOST_TEST(second.suggestions == first.suggestions);
  auto stored = eng->suggestions(user);
  BOOST_TEST(static_cast<std::int64_t>(stored.size()) == second.suggestions);
  for (std::size_t i = 0; i < first.items.size(); ++i) {
    BOOST_TEST(first.items[i].contact_id == second.items[i].contact_id);
    BOOST_TEST(first.items[i].slot_start_unix_s
               == second.items[i].slot_start_unix_s);
  }
}

BOOST_AUTO_TEST_CASE(an_excluded_contact_is_never_suggested) {
  auto first = eng->generate(user, now);
  BOOST_REQUIRE(!first.items.empty());
  auto top = first.items.front().contact_id;
  db.query("INSERT INTO suggestion_exclusions (user_id, contact_id) VALUES ('"
           + user + "', '" + top + "') RETURNING 1");
  auto second = eng->generate(user, now);
  for (auto& s : second.items)
    BOOST_TEST(s.contact_id != top);
}

BOOST_AUTO_TEST_CASE(a_paused_user_gets_nothing_and_keeps_what_they_had) {
  auto first = eng->generate(user, now);
  db.query("INSERT INTO suggestion_pauses (user_id, pause_start, pause_end) "
           "VALUES ('" + user + "', to_timestamp(" + std::to_string(now - 60)
           + "), to_timestamp(" + std::to_string(now + 86400)
           + ")) RETURNING 1");
  auto paused = eng->generate(user, now);
  BOOST_TEST(paused.paused);
  BOOST_TEST(paused.items.empty());
  BOOST_TEST(static_cast<std::int64_t>(eng->suggestions(user).size())
             == first.suggestions);
}

BOOST_AUTO_TEST_CASE(unknown_users_and_timezones_are_errors) {
  BOOST_TEST((code_of([&] {
                eng->generate("00000000-0000-4000-8000-000000000000", now);
              })
              == ec::not_found));
  db.query("UPDATE users SET timezone = 'Mars/Olympus' RETURNING 1");
  try {
    eng->generate(user, now);
    BOOST_FAIL("generated in an unknown timezone");
  } catch (const engine_error& e) {
    BOOST_TEST((e.code() == ec::invalid_input));
    BOOST_TEST(std::string{e.what()}.find("Mars/Olympus")
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
