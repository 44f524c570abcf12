// SPDX-License-Identifier: Apache-2.0
// The cache actor on a real database: reads go through it, every write
// path invalidates what it changed (a stale read fails the test), and
// memory pressure shrinks its caches in LRU order and restores them.

#include <boost/test/unit_test.hpp>

#include <cctype>

#include <caf/all.hpp>

#include "actors/cache.hpp"
#include "actors/engine_core.hpp"
#include "actors/repository.hpp"
#include "actors/system_config.hpp"
#include "messages/error_codes.hpp"
#include "storage/migrations.hpp"
#include "tests/support/test_clock.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

constexpr std::int64_t now = 1795000000;

struct fixture {
  test::test_database db;

  fixture() {
    storage::migrate(db.url());
  }

  std::string make_user(int contacts) {
    auto id = db.query("INSERT INTO users (email, timezone) VALUES ("
                       "'c' || gen_random_uuid() || '@example.org', 'UTC') "
                       "RETURNING id")[0];
    db.query("INSERT INTO contacts (user_id, name, created_at) SELECT '" + id
             + "', 'c' || lpad(i::text, 3, '0'), "
             "'2000-01-01T00:00:00Z' FROM generate_series(1, "
             + std::to_string(contacts) + ") i RETURNING 1");
    return id;
  }

  std::unique_ptr<engine_core> start() {
    config::settings s;
    s.database.url = db.url();
    s.database.connections_max = 2;
    engine_options o;
    o.clock = test::standing_clock();
    return std::make_unique<engine_core>(s, o);
  }
};

const cache_figures& figures(const std::vector<cache_figures>& all,
                             const std::string& name) {
  for (auto& f : all)
    if (f.name == name)
      return f;
  BOOST_FAIL("no cache " << name);
  return all.front();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_cache, fixture)

BOOST_AUTO_TEST_CASE(a_generation_replaces_what_the_suggestion_cache_serves) {
  auto eng = start();
  auto user = make_user(10);
  eng->generate(user, now);
  auto first = eng->suggestions(user);
  BOOST_REQUIRE_EQUAL(first.size(), 10u);
  BOOST_TEST(eng->suggestions(user).size() == 10u); // served from the cache
  auto s = figures(eng->cache_status(), "suggestions");
  BOOST_TEST(s.hits == 1);
  BOOST_TEST(s.misses == 1);
  // A week later the slots differ: a cached read would show the old ones.
  auto later = eng->generate(user, now + 7 * 86400);
  auto second = eng->suggestions(user);
  BOOST_REQUIRE_EQUAL(second.size(), later.items.size());
  for (std::size_t i = 0; i < second.size(); ++i)
    BOOST_TEST(second[i].slot_start_unix_s == later.items[i].slot_start_unix_s);
  BOOST_TEST(second.front().slot_start_unix_s
             != first.front().slot_start_unix_s);
  BOOST_TEST(figures(eng->cache_status(), "suggestions").invalidations >= 1);
}

BOOST_AUTO_TEST_CASE(every_spelling_of_a_user_id_is_one_cache_entry) {
  auto eng = start();
  auto user = make_user(10);
  std::string upper;
  for (auto ch : user)
    upper.push_back(static_cast<char>(std::toupper(ch)));
  eng->generate(user, now);
  auto first = eng->suggestions(upper); // cached under the canonical id
  BOOST_REQUIRE_EQUAL(first.size(), 10u);
  eng->generate(user, now + 7 * 86400); // invalidates the lower-case id
  auto second = eng->suggestions(upper);
  BOOST_REQUIRE_EQUAL(second.size(), 10u);
  BOOST_TEST(second.front().slot_start_unix_s
             != first.front().slot_start_unix_s);
}

BOOST_AUTO_TEST_CASE(contacts_by_id_are_cached_and_invalidated_by_the_host) {
  auto eng = start();
  auto user = make_user(3);
  auto id = db.query("SELECT id FROM contacts WHERE user_id = '" + user
                     + "' ORDER BY name LIMIT 1")[0];
  auto c = eng->contact(user, id);
  BOOST_TEST(c.id == id);
  BOOST_TEST(c.name == "c001");
  db.query("UPDATE contacts SET name = 'renamed' WHERE id = '" + id
           + "' RETURNING 1");
  BOOST_TEST(eng->contact(user, id).name == "c001"); // cached, not yet told
  eng->invalidate(user);
  BOOST_TEST(eng->contact(user, id).name == "renamed");
  auto f = figures(eng->cache_status(), "contacts");
  BOOST_TEST(f.hits == 1);
  BOOST_TEST(f.misses == 2);
  try {
    eng->contact(user, "00000000-0000-4000-8000-000000000000");
    BOOST_FAIL("no error for a missing contact");
  } catch (const engine_error& e) {
    BOOST_TEST((e.code() == ec::not_found));
  }
}

BOOST_AUTO_TEST_CASE(seeding_invalidates_every_user) {
  auto eng = start();
  auto user = make_user(3);
  auto id = db.query("SELECT id FROM contacts WHERE user_id = '" + user
                     + "' LIMIT 1")[0];
  eng->contact(user, id);
  BOOST_TEST(figures(eng->cache_status(), "contacts").entries == 1);
  storage::seed_options opts;
  opts.users = 1;
  opts.contacts_per_user = 5;
  eng->seed(opts);
  BOOST_TEST(figures(eng->cache_status(), "contacts").entries == 0);
}

BOOST_AUTO_TEST_CASE(pressure_shrinks_in_lru_order_and_restores) {
  std::vector<std::string> users;
  for (int i = 0; i < 10; ++i)
    users.push_back(make_user(0));
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = db.url();
  rc.connections_max = 1;
  auto repo = spawn_repository(sys, rc);
  config::caches_settings cc;
  cc.calendar.entries_max = 10;
  auto cache = spawn_cache(sys, repo, cc, 0, pressure_policy_table{});
  caf::scoped_actor self{sys};
  auto busy = [&](const std::string& user) {
    self->request(cache, std::chrono::seconds(30), atom::busy::value, user,
                  now, now + 86400)
      .receive([](std::vector<busy_record>&) {},
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  };
  auto status = [&] {
    cache_figures out;
    self->request(cache, std::chrono::seconds(10), atom::status::value)
      .receive([&](std::vector<cache_figures>& all) {
                 out = figures(all, "calendar");
               },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return out;
  };
  for (auto& u : users)
    busy(u);
  busy(users[0]); // users[0] is now the most recent; users[1] the least
  BOOST_TEST(status().entries == 10);
  memory_status high;
  high.level = pressure_level::high; // 50%
  self->send(cache, atom::pressure::value, high);
  auto f = status();
  BOOST_TEST(f.entries == 5);
  BOOST_TEST(f.entries_max == 5);
  BOOST_TEST(f.capacity_percent == 50);
  BOOST_TEST(f.evictions_pressure == 5);
  // The five kept are the most recent: users[0] and users[6..9] hit.
  auto hits = f.hits;
  for (auto i : {0, 6, 7, 8, 9})
    busy(users[static_cast<std::size_t>(i)]);
  BOOST_TEST(status().hits == hits + 5);
  memory_status normal;
  self->send(cache, atom::pressure::value, normal);
  for (auto& u : users)
    busy(u);
  f = status();
  BOOST_TEST(f.capacity_percent == 100);
  BOOST_TEST(f.entries == 10);
  self->send_exit(cache, caf::exit_reason::user_shutdown);
  self->send_exit(repo, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(byte_limits_follow_the_memory_budget) {
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = db.url();
  rc.connections_max = 1;
  auto repo = spawn_repository(sys, rc);
  // 175 MiB configured in all; 25% of a 70 MiB budget is 17.5 MiB: each
  // cache gets a tenth of its configured bytes.
  auto cache = spawn_cache(sys, repo, config::caches_settings{}, 70LL << 20,
                           pressure_policy_table{});
  caf::scoped_actor self{sys};
  self->request(cache, std::chrono::seconds(10), atom::status::value)
    .receive(
      [&](std::vector<cache_figures>& all) {
        BOOST_TEST(figures(all, "contacts").bytes_max == (50LL << 20) / 10);
        BOOST_TEST(figures(all, "calendar").bytes_max == (100LL << 20) / 10);
        BOOST_TEST(figures(all, "suggestions").bytes_max
                   == (25LL << 20) / 10);
        BOOST_TEST(figures(all, "contacts").entries_max == 1000);
      },
      [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  self->send_exit(cache, caf::exit_reason::user_shutdown);
  self->send_exit(repo, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
