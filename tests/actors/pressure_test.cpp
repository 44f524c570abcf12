// SPDX-License-Identifier: Apache-2.0
// Memory pressure end to end on a real database, with an injected probe:
// the batches the repository serves shrink after a level change, caps
// shrink and results say so, the circuit breaker refuses new work and
// recovers, and users of a run held by the breaker are retried, not lost.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <pqxx/pqxx>

#include "actors/engine_core.hpp"
#include "actors/generation.hpp"
#include "actors/memory_supervisor.hpp"
#include "actors/repository.hpp"
#include "actors/system_config.hpp"
#include "messages/error_codes.hpp"
#include "storage/migrations.hpp"
#include "storage/session.hpp"
#include "tests/support/fake_memory_probe.hpp"
#include "tests/support/test_clock.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

constexpr std::int64_t budget = 1'000'000;
constexpr std::int64_t normal_bytes = 100'000;   // 10%
constexpr std::int64_t elevated_bytes = 650'000; // 65%
constexpr std::int64_t high_bytes = 750'000;     // 75%
constexpr std::int64_t critical_bytes = 850'000; // 85%
constexpr std::int64_t now = 1795000000;

double metric_value(const metrics_registry& r, const std::string& name) {
  for (auto& m : r.snapshot())
    if (m.name == name)
      return m.value;
  BOOST_FAIL("no metric " << name);
  return 0;
}

struct fixture {
  test::test_database db;
  std::shared_ptr<test::fake_memory_probe> probe
    = std::make_shared<test::fake_memory_probe>();

  fixture() {
    storage::migrate(db.url());
  }

  // A user with default availability (28 slots in 14 days) and `contacts`
  // never-contacted contacts.
  std::string make_user(int contacts) {
    auto id = db.query("INSERT INTO users (email, timezone) VALUES ("
                       "'p' || gen_random_uuid() || '@example.org', "
                       "'Europe/Berlin') RETURNING id")[0];
    db.query("INSERT INTO contacts (user_id, name, created_at) SELECT '" + id
             + "', 'c' || lpad(i::text, 4, '0'), "
             "'2000-01-01T00:00:00Z' FROM generate_series(1, "
             + std::to_string(contacts) + ") i RETURNING 1");
    return id;
  }

  std::unique_ptr<engine_core> start(std::int64_t batch_rows_max = 100,
                                     std::int64_t suggestions_max = 50) {
    config::settings s;
    s.generation.batch_rows_max = batch_rows_max;
    s.generation.suggestions_max = suggestions_max;
    s.database.url = db.url();
    s.database.connections_max = 2;
    s.generation.concurrent_users_max = 4;
    s.memory.budget_bytes = budget;
    // The scripted samples are pressure that comes and goes, not a resting
    // heap: the start's refusal of unworkable budgets would take them so.
    s.memory.budget_check_enabled = false;
    // Only the test's samples and the breaker's retries sample.
    s.memory.sample_interval_ms = 600000;
    engine_options o;
    o.probe = probe;
    o.clock = test::standing_clock();
    return std::make_unique<engine_core>(s, o);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_pressure, fixture)

BOOST_AUTO_TEST_CASE(the_repository_serves_smaller_batches_as_pressure_rises) {
  auto user = make_user(300);
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = db.url();
  rc.connections_max = 1;
  auto repo = spawn_repository(sys, rc);
  auto gauge = std::make_shared<memory_gauge>();
  memory_supervisor_config mc;
  mc.budget_bytes = budget;
  mc.sample_interval = std::chrono::hours(1);
  probe->set(normal_bytes);
  auto sup = spawn_memory_supervisor(sys, probe, gauge, nullptr, mc);
  caf::scoped_actor self{sys};
  self->request(sup, std::chrono::seconds(10), atom::subscribe::value,
                caf::actor_cast<caf::actor>(repo))
    .receive([](std::uint64_t) {},
             [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  auto cursor = storage::session::open_ordered(user, contact_order::name,
                                               false, false);
  // Every pull asks for 150 rows; the repository decides what it serves.
  auto pull = [&] {
    std::size_t rows = 0;
    self->request(repo, std::chrono::seconds(60), atom::next::value, cursor,
                  std::uint64_t{150})
      .receive(
        [&](contact_batch& b) {
          rows = b.rows.size();
          cursor = b.next;
        },
        [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return rows;
  };
  // The supervisor broadcasts a change before it replies to the sample, so
  // the repository has it before the test's next pull.
  auto level_at = [&](std::int64_t bytes) {
    probe->set(bytes);
    pressure_level out = pressure_level::normal;
    self->request(sup, std::chrono::seconds(10), atom::sample::value)
      .receive([&](memory_status& x) { out = x.level; },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return out;
  };
  BOOST_TEST(pull() == 150u); // normal: as asked
  BOOST_TEST((level_at(elevated_bytes) == pressure_level::elevated));
  BOOST_TEST(pull() == 50u);
  BOOST_TEST((level_at(high_bytes) == pressure_level::high));
  BOOST_TEST(pull() == 25u);
  BOOST_TEST((level_at(critical_bytes) == pressure_level::critical));
  BOOST_TEST(pull() == 25u); // work in flight goes on with the smallest
  BOOST_TEST((level_at(normal_bytes) == pressure_level::normal));
  BOOST_TEST(pull() == 50u); // 300 - 150 - 50 - 25 - 25 rows were left
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->send_exit(repo, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(caps_shrink_and_the_result_says_partial_and_why) {
  auto user = make_user(100);
  probe->set(normal_bytes);
  auto eng = start();
  auto full = eng->generate(user, now);
  BOOST_TEST(full.suggestions == 28); // one per free slot
  BOOST_TEST(!full.partial);
  BOOST_TEST(full.warnings.empty());
  probe->set(elevated_bytes);
  BOOST_TEST((eng->sample_memory().level == pressure_level::elevated));
  auto elevated = eng->generate(user, now);
  BOOST_TEST(elevated.suggestions == 25);
  BOOST_TEST(elevated.partial);
  probe->set(high_bytes);
  BOOST_TEST((eng->sample_memory().level == pressure_level::high));
  auto high = eng->generate(user, now);
  BOOST_TEST(high.suggestions == 10);
  BOOST_TEST(high.partial);
  BOOST_REQUIRE_EQUAL(high.warnings.size(), 1u);
  BOOST_TEST(high.warnings[0]
             == "memory pressure high: suggestion cap 10 instead of 28");
  // Smaller batches too: 10 rows in batches of at most 25.
  BOOST_TEST(high.contacts_read == 10);
  // The cut keeps the best: the top 10 of the full result, in order.
  for (std::size_t i = 0; i < high.items.size(); ++i)
    BOOST_TEST(high.items[i].contact_id == full.items[i].contact_id);
  BOOST_TEST(metric_value(eng->metrics(),
                          "catchup_generations_partial_total") == 2.0);
}

BOOST_AUTO_TEST_CASE(generations_follow_the_configured_policy_table) {
  // generation.batch_rows_max 8 and suggestions_max 20: the engine's table
  // gives batches of 8, 4 and 2 rows and caps of 20, 10 and 4.
  auto user = make_user(100);
  probe->set(normal_bytes);
  auto eng = start(8, 20);
  const pressure_policy_table table{8, 20};
  struct step {
    pressure_level level;
    std::int64_t bytes;
    std::int64_t batches;
  };
  for (auto s : {step{pressure_level::normal, normal_bytes, 3},     // 8 8 4
                 step{pressure_level::elevated, elevated_bytes, 3}, // 4 4 2
                 step{pressure_level::high, high_bytes, 2}}) {      // 2 2
    probe->set(s.bytes);
    BOOST_REQUIRE((eng->sample_memory().level == s.level));
    auto cap = static_cast<std::int64_t>(table.at(s.level).suggestions_max);
    auto r = eng->generate(user, now);
    BOOST_TEST(r.suggestions == cap, to_string(s.level));
    BOOST_TEST(r.contacts_read == cap, to_string(s.level));
    BOOST_TEST(r.batches == s.batches, to_string(s.level));
    BOOST_TEST(r.partial == (s.level != pressure_level::normal), to_string(s.level));
  }
}

BOOST_AUTO_TEST_CASE(the_breaker_refuses_new_work_with_figures_and_recovers) {
  auto user = make_user(20);
  probe->set(critical_bytes);
  auto eng = start();
  try {
    eng->generate(user, now);
    BOOST_FAIL("generation started at critical pressure");
  } catch (const engine_error& e) {
    BOOST_TEST((e.code() == ec::memory_critical));
    std::string what = e.what();
    BOOST_TEST(what.find("critical") != std::string::npos, what);
    BOOST_TEST(what.find("0.8 MiB allocated") != std::string::npos, what);
    BOOST_TEST(what.find("budget 1.0 MiB (85.0%)") != std::string::npos,
               what);
  }
  // Seeding is refused the same way (wrap_operation).
  storage::seed_options opts;
  opts.users = 1;
  opts.contacts_per_user = 1;
  BOOST_CHECK_THROW(eng->seed(opts), engine_error);
  BOOST_TEST(metric_value(eng->metrics(),
                          "catchup_memory_circuit_breaker_triggered_total")
             == 1.0);
  // 76%: still critical (hysteresis), then 74%: high, open again.
  probe->set(760'000);
  BOOST_TEST((eng->sample_memory().level == pressure_level::critical));
  BOOST_CHECK_THROW(eng->generate(user, now), engine_error);
  probe->set(740'000);
  BOOST_TEST((eng->sample_memory().level == pressure_level::high));
  auto r = eng->generate(user, now);
  BOOST_TEST(r.suggestions == 10);
}

BOOST_AUTO_TEST_CASE(users_held_by_the_breaker_are_retried_not_lost) {
  std::vector<std::string> users;
  for (int i = 0; i < 6; ++i)
    users.push_back(make_user(30));
  // The first samples (the engine's start and the breaker's first retries)
  // read critical; then memory falls and the held users run.
  probe->script({critical_bytes, critical_bytes, critical_bytes,
                 normal_bytes});
  auto eng = start();
  std::vector<generation_result> results;
  auto summary = eng->generate_users(
    users, now, [&](const generation_result& r, std::size_t, std::size_t) {
      results.push_back(r);
    });
  BOOST_REQUIRE_EQUAL(results.size(), users.size());
  BOOST_TEST(summary.users == 6);
  BOOST_TEST(summary.failed == 0);
  BOOST_TEST(summary.breaker_holds == 1);
  for (auto& r : results) {
    BOOST_TEST(r.warnings.empty(), r.user_id << ": " << r.warnings.size());
    BOOST_TEST(r.suggestions == 28);
    BOOST_TEST(r.items.empty()); // summaries; the suggestions are stored
    BOOST_TEST(eng->suggestions(r.user_id).size() == 28u);
  }
  // Held once, retried after backoff until a sample read normal.
  BOOST_TEST(metric_value(eng->metrics(),
                          "catchup_memory_circuit_breaker_triggered_total")
             == 1.0);
  BOOST_TEST(probe->samples() >= 4);
  BOOST_TEST(metric_value(eng->metrics(), "catchup_generations_total") == 6.0);
}

BOOST_AUTO_TEST_CASE(a_generation_past_its_timeout_is_stopped_and_reported) {
  std::vector<std::string> users{make_user(5), make_user(5)};
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = db.url();
  rc.connections_max = 1;
  auto repo = spawn_repository(sys, rc);
  generation_config gc;
  gc.user_timeout = std::chrono::milliseconds(300);
  auto coordinator = spawn_coordinator(sys, repo, gc);
  caf::scoped_actor self{sys};
  run_summary summary;
  std::vector<generation_result> results;
  auto listener = sys.spawn(
    [&](caf::event_based_actor* me, int) -> caf::behavior {
      return {
        [&](atom::progress, const generation_result& r, std::uint64_t,
            std::uint64_t) { results.push_back(r); },
        [me](atom::close) { me->quit(); },
      };
    },
    0);
  {
    // The users table is locked: both generations wait for their context
    // (the first on the only connection, the second in the queue) until
    // the watchdog stops them.
    pqxx::connection locker{db.url()};
    pqxx::work lock{locker};
    lock.exec0("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
    self
      ->request(coordinator, std::chrono::seconds(30), atom::generate::value,
                users, now, listener)
      .receive([&](run_summary& s) { summary = s; },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    lock.abort();
  }
  BOOST_TEST(summary.users == 2);
  BOOST_TEST(summary.failed == 2);
  self->monitor(listener);
  self->send(listener, atom::close::value);
  self->receive([](const caf::down_msg&) {});
  BOOST_REQUIRE_EQUAL(results.size(), 2u);
  for (auto& r : results) {
    BOOST_REQUIRE_EQUAL(r.warnings.size(), 1u);
    BOOST_TEST(r.warnings[0].find("did not finish within 300 ms")
                 != std::string::npos,
               r.warnings[0]);
  }
  // Shutting down does not wait for anything the stopped generations
  // started.
  self->send_exit(coordinator, caf::exit_reason::user_shutdown);
  self->send_exit(repo, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_single_generation_past_its_timeout_is_a_timeout_error) {
  auto user = make_user(5);
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = db.url();
  rc.connections_max = 1;
  auto repo = spawn_repository(sys, rc);
  generation_config gc;
  gc.user_timeout = std::chrono::milliseconds(300);
  auto coordinator = spawn_coordinator(sys, repo, gc);
  caf::scoped_actor self{sys};
  caf::error failure;
  {
    pqxx::connection locker{db.url()};
    pqxx::work lock{locker};
    lock.exec0("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
    self
      ->request(coordinator, std::chrono::seconds(30), atom::generate::value,
                generation_request{user, now})
      .receive([&](generation_result&) { BOOST_FAIL("it finished"); },
               [&](caf::error& err) { failure = std::move(err); });
    lock.abort();
  }
  // A timeout, not an unavailable database: the caller may simply retry.
  BOOST_TEST((failure == ec::timeout), sys.render(failure));
  BOOST_TEST(sys.render(failure).find("300 ms") != std::string::npos,
             sys.render(failure));
  self->send_exit(coordinator, caf::exit_reason::user_shutdown);
  self->send_exit(repo, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(users_held_past_breaker_wait_max_fail_with_the_figures) {
  std::vector<std::string> users{make_user(5), make_user(5)};
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = db.url();
  rc.connections_max = 1;
  auto repo = spawn_repository(sys, rc);
  probe->set(critical_bytes); // and it stays there
  memory_supervisor_config mc;
  mc.budget_bytes = budget;
  mc.sample_interval = std::chrono::hours(1);
  auto sup = spawn_memory_supervisor(sys, probe, nullptr, nullptr, mc);
  generation_config gc;
  gc.breaker_backoff_min = std::chrono::milliseconds(10);
  gc.breaker_backoff_max = std::chrono::milliseconds(40);
  gc.breaker_wait_max = std::chrono::milliseconds(200);
  auto coordinator = spawn_coordinator(sys, repo, gc, sup);
  caf::scoped_actor self{sys};
  self->request(sup, std::chrono::seconds(10), atom::subscribe::value,
                caf::actor_cast<caf::actor>(coordinator))
    .receive([](std::uint64_t) {},
             [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  std::vector<generation_result> results;
  auto listener = sys.spawn(
    [&](caf::event_based_actor* me, int) -> caf::behavior {
      return {
        [&](atom::progress, const generation_result& r, std::uint64_t,
            std::uint64_t) { results.push_back(r); },
        [me](atom::close) { me->quit(); },
      };
    },
    0);
  run_summary summary;
  self
    ->request(coordinator, std::chrono::seconds(30), atom::generate::value,
              users, now, listener)
    .receive([&](run_summary& s) { summary = s; },
             [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  BOOST_TEST(summary.users == 2);
  BOOST_TEST(summary.failed == 2);
  BOOST_TEST(summary.breaker_holds == 1);
  self->monitor(listener);
  self->send(listener, atom::close::value);
  self->receive([](const caf::down_msg&) {});
  BOOST_REQUIRE_EQUAL(results.size(), 2u);
  for (auto& r : results) {
    BOOST_REQUIRE_EQUAL(r.warnings.size(), 1u);
    BOOST_TEST(r.warnings[0].find("held by the circuit breaker")
                 != std::string::npos,
               r.warnings[0]);
    BOOST_TEST(r.warnings[0].find("(85.0%)") != std::string::npos,
               r.warnings[0]);
  }
  // Retries sampled again and again: the wait was not one long sleep.
  BOOST_TEST(probe->samples() >= 3);
  for (auto a : {caf::actor_cast<caf::actor>(coordinator),
                 caf::actor_cast<caf::actor>(sup),
                 caf::actor_cast<caf::actor>(repo)})
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
