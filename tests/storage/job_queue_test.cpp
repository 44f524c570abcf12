// SPDX-License-Identifier: Apache-2.0
// The job queue against real PostgreSQL: enqueue is idempotent per (kind,
// user), claims honour run_at and never hand one job to two claimers, an
// expired lease is rescued and the old owner's late answer refused, failures
// back off exponentially and then fail, and the generation schedule runs
// once across nodes; a dead owner's leases can be ended at once. Leases are
// expired by moving lease_expires_at into the past in the test database,
// never by sleeping.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/storage_error.hpp"
#include "storage/job_queue.hpp"
#include "storage/migrations.hpp"
#include "tests/support/run_together.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

constexpr std::int64_t lease_ms = 60000;

std::int64_t number(const test::test_database& db, const std::string& sql) {
  return std::stoll(db.query(sql).at(0));
}

std::string make_user(const test::test_database& db, const std::string& name,
                      bool active = true) {
  return db.query("INSERT INTO users (email, active) VALUES ('" + name
                  + "@example.org', " + (active ? "true" : "false")
                  + ") RETURNING id")[0];
}

// As if the owner's node had died a while ago.
void expire_lease(const test::test_database& db, std::int64_t id) {
  db.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' "
           "WHERE id = " + std::to_string(id) + " RETURNING id");
}

// Makes a job that waits for its backoff due now.
void make_due(const test::test_database& db, std::int64_t id) {
  db.query("UPDATE jobs SET run_at = now() WHERE id = " + std::to_string(id)
           + " RETURNING id");
}

ec code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const storage_error& e) {
    return e.code();
  }
  return ec::none;
}

std::vector<std::int64_t> ids_of(const std::vector<job_record>& jobs) {
  std::vector<std::int64_t> out;
  for (auto& j : jobs)
    out.push_back(j.id);
  return out;
}

// The queue's clock in these tests is the database server's: they check
// run times against what the server stamps itself (created_at, enqueues
// in SQL, make_due, leases), whatever the test process's clock says.
wall_clock server_clock(const test::test_database& db) {
  return wall_clock{[&db] { return db.server_clock_unix_ms(); }};
}

struct migrated_database {
  migrated_database() {
    migrate(db.url());
  }
  test::test_database db;
};

} // namespace

BOOST_AUTO_TEST_SUITE(storage_job_queue)

BOOST_AUTO_TEST_CASE(the_jobs_migration_is_schema_version_two) {
  migrated_database m;
  BOOST_TEST(known_schema_version() >= 2);
  BOOST_TEST(schema_version(m.db.url()) == known_schema_version());
  BOOST_TEST(built_in_migrations().at(1).version == 2);
  BOOST_TEST(built_in_migrations().at(1).name == "jobs");
}

BOOST_AUTO_TEST_CASE(enqueue_by_method_or_sql_and_again_while_pending_is_a_no_op) {
  migrated_database m;
  auto& db = m.db;
  auto user = make_user(db, "ada");
  job_queue q{db.url(), server_clock(db)};
  auto before = q.now_unix_ms();
  auto first = q.enqueue("sync_contacts", user, R"({"path": "/a.vcf"})");
  BOOST_TEST(first.created);
  BOOST_TEST(first.id > 0);
  auto job = q.get(first.id);
  BOOST_REQUIRE(job.has_value());
  BOOST_TEST(job->kind == "sync_contacts");
  BOOST_TEST(job->user_id == user);
  BOOST_TEST(job->payload_json == R"({"path": "/a.vcf"})");
  BOOST_TEST(job->state == "pending");
  BOOST_TEST(job->attempts == 0);
  BOOST_TEST(job->max_attempts == 5);
  BOOST_TEST(job->run_at_unix_ms >= before - 1);
  BOOST_TEST(job->run_at_unix_ms <= q.now_unix_ms());
  BOOST_TEST(job->lease_owner.empty());
  BOOST_TEST(job->finished_unix_ms == 0);
  BOOST_TEST(job->created_unix_ms >= before - 1);

  // Again, by method and by SQL: the same job, unchanged.
  auto again = q.enqueue("sync_contacts", user, R"({"path": "/b.vcf"})");
  BOOST_TEST(!again.created);
  BOOST_TEST(again.id == first.id);
  BOOST_TEST(db.query("SELECT id || '/' || created FROM catchup_enqueue("
                      "'sync_contacts', '" + user + "')")[0]
             == std::to_string(first.id) + "/false");
  BOOST_TEST(q.get(first.id)->payload_json == R"({"path": "/a.vcf"})");

  // Plain SQL with every argument, then by name with the defaults.
  auto created = db.query("SELECT id || '/' || created FROM catchup_enqueue("
                          "'sync_calendar', '" + user + "', '{\"x\": 1}', "
                          "now() + interval '1 hour', 3)")[0];
  auto id = std::stoll(created.substr(0, created.find('/')));
  BOOST_TEST(created.substr(created.find('/')) == "/true");
  auto sql_job = q.get(id);
  BOOST_TEST(sql_job->max_attempts == 3);
  BOOST_TEST(sql_job->run_at_unix_ms > before + 3500 * 1000);
  BOOST_TEST(db.query("SELECT created FROM catchup_enqueue(kind => "
                      "'generate', user_id => '" + user + "')")[0]
             == "t");
  // A run_at given in ms is kept to the ms.
  auto later = q.enqueue("generate", make_user(db, "bob"), "{}",
                         1900000000123, 7);
  BOOST_TEST(q.get(later.id)->run_at_unix_ms == 1900000000123);
  BOOST_TEST(q.get(later.id)->max_attempts == 7);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs") == 4);
}

BOOST_AUTO_TEST_CASE(bad_enqueues_are_refused_with_what_was_wrong) {
  migrated_database m;
  auto user = make_user(m.db, "ada");
  job_queue q{m.db.url(), server_clock(m.db)};
  BOOST_TEST((code_of([&] { q.enqueue("compost", user); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.enqueue("generate", "not-a-uuid"); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.enqueue("generate", user, "[1, 2]"); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.enqueue("generate", user, "{bad"); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.enqueue("generate", user, "{}", 0, 0); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.enqueue("generate", user, "{}", 0, 101); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.enqueue("generate", user, "{}", -5); })
              == ec::invalid_input));
  try {
    q.enqueue("generate", "00000000-0000-4000-8000-000000000000");
    BOOST_FAIL("a job for a missing user was enqueued");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::not_found));
    BOOST_TEST(std::string{e.what()}.find(
                 "no user 00000000-0000-4000-8000-000000000000")
               != std::string::npos);
  }
  BOOST_TEST((code_of([&] { q.claim("", 1, lease_ms); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.claim("n1", 1, 0); }) == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.claim("n1", 1001, lease_ms); })
              == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.list("lost", 10); }) == ec::invalid_input));
  BOOST_TEST((code_of([&] { q.wait_for_notification(1); })
              == ec::invalid_input));
  BOOST_TEST(number(m.db, "SELECT count(*) FROM jobs") == 0);
  // The schema refuses incoherent rows written by hand.
  BOOST_CHECK_THROW(m.db.query("INSERT INTO jobs (kind, user_id, state) "
                               "VALUES ('generate', '" + user
                               + "', 'running') RETURNING id"),
                    std::exception);
  BOOST_CHECK_THROW(m.db.query("INSERT INTO jobs (kind, user_id, state) "
                               "VALUES ('generate', '" + user
                               + "', 'done') RETURNING id"),
                    std::exception);
  BOOST_CHECK_THROW(m.db.query("INSERT INTO jobs (kind, user_id, "
                               "max_attempts) VALUES ('generate', '" + user
                               + "', 0) RETURNING id"),
                    std::exception);
}

BOOST_AUTO_TEST_CASE(a_claim_takes_due_jobs_oldest_first_and_leases_them) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto now = q.now_unix_ms();
  // Due 3 s, 1 s and 2 s ago; one due in an hour.
  auto a = q.enqueue("generate", make_user(db, "a"), "{}", now - 3000).id;
  auto b = q.enqueue("generate", make_user(db, "b"), "{}", now - 1000).id;
  auto c = q.enqueue("generate", make_user(db, "c"), "{}", now - 2000).id;
  auto future = q.enqueue("generate", make_user(db, "d"), "{}",
                          now + 3600 * 1000)
                  .id;
  BOOST_TEST(q.claim("n1", 0, lease_ms).empty());
  auto first = q.claim("n1", 2, lease_ms);
  BOOST_TEST((ids_of(first) == std::vector<std::int64_t>{a, c}));
  auto after = q.now_unix_ms();
  for (auto& j : first) {
    BOOST_TEST(j.state == "running");
    BOOST_TEST(j.lease_owner == "n1");
    BOOST_TEST(j.attempts == 1);
    BOOST_TEST(j.lease_expires_unix_ms >= now + lease_ms - 1);
    BOOST_TEST(j.lease_expires_unix_ms <= after + lease_ms);
  }
  auto rest = q.claim("n2", 10, lease_ms);
  BOOST_TEST((ids_of(rest) == std::vector<std::int64_t>{b}));
  BOOST_TEST(q.claim("n2", 10, lease_ms).empty());
  BOOST_TEST(q.get(future)->state == "pending");
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs WHERE state = 'running' "
                        "AND started_at IS NOT NULL")
             == 3);
  // Due now: claimed.
  make_due(db, future);
  BOOST_TEST((ids_of(q.claim("n2", 10, lease_ms))
              == std::vector<std::int64_t>{future}));
}

BOOST_AUTO_TEST_CASE(the_claim_plan_is_one_ordered_scan_of_the_claim_index) {
  migrated_database m;
  auto& db = m.db;
  // Enough finished history that a scan of the table would cost more.
  db.query("INSERT INTO users (email) SELECT 'u' || g || '@example.org' "
           "FROM generate_series(1, 2000) g RETURNING 1");
  db.query("INSERT INTO jobs (kind, user_id, state, attempts, finished_at) "
           "SELECT k, id, 'done', 1, now() FROM users, unnest(ARRAY["
           "'generate', 'sync_contacts', 'sync_calendar']) k RETURNING 1");
  db.query("INSERT INTO jobs (kind, user_id) SELECT 'generate', id FROM "
           "users RETURNING 1");
  db.query("ANALYZE jobs");
  auto plan = db.query(
    "EXPLAIN SELECT id FROM jobs WHERE state IN ('pending', 'running') AND "
    "run_at <= now() AND attempts < max_attempts AND (state = 'pending' OR "
    "lease_expires_at <= now()) ORDER BY run_at, id LIMIT 10 "
    "FOR UPDATE SKIP LOCKED");
  std::string text;
  for (auto& line : plan)
    text += line + "\n";
  BOOST_TEST_MESSAGE("claim plan:\n" << text);
  BOOST_TEST(text.find("jobs_claimable") != std::string::npos, text);
  BOOST_TEST(text.find("Sort") == std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(two_claimers_drain_a_thousand_jobs_each_exactly_once) {
  migrated_database m;
  auto& db = m.db;
  constexpr int jobs_total = 1000;
  db.query("INSERT INTO users (email) SELECT 'u' || g || '@example.org' "
           "FROM generate_series(1, " + std::to_string(jobs_total)
           + ") g RETURNING 1");
  BOOST_TEST(number(db, "SELECT count(*) FROM users u, "
                        "catchup_enqueue('generate', u.id) e WHERE e.created")
             == jobs_total);
  std::vector<std::vector<std::int64_t>> done(2);
  std::vector<int> refused(2, 0);
  std::vector<int> batches(2, 0);
  auto start = std::chrono::steady_clock::now();
  test::run_together(2, [&](int i) {
    job_queue q{db.url(), server_clock(db)};
    auto owner = "node" + std::to_string(i);
    for (;;) {
      auto jobs = q.claim(owner, 10, lease_ms);
      if (jobs.empty())
        break;
      batches[static_cast<std::size_t>(i)] += 1;
      for (auto& j : jobs) {
        if (q.complete(j.id, owner))
          done[static_cast<std::size_t>(i)].push_back(j.id);
        else
          refused[static_cast<std::size_t>(i)] += 1;
      }
    }
  });
  auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count();
  BOOST_TEST_MESSAGE("drained " << jobs_total << " jobs in " << wall_ms
                                << " ms: node0 " << done[0].size()
                                << " jobs in " << batches[0]
                                << " claims, node1 " << done[1].size()
                                << " jobs in " << batches[1] << " claims");
  BOOST_TEST(refused[0] == 0);
  BOOST_TEST(refused[1] == 0);
  BOOST_TEST(done[0].size() + done[1].size() == std::size_t{jobs_total});
  std::set<std::int64_t> all(done[0].begin(), done[0].end());
  all.insert(done[1].begin(), done[1].end());
  BOOST_TEST(all.size() == std::size_t{jobs_total});
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs WHERE state = 'done' AND "
                        "attempts = 1 AND finished_at IS NOT NULL AND "
                        "lease_owner IS NULL")
             == jobs_total);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs") == jobs_total);
}

BOOST_AUTO_TEST_CASE(an_expired_lease_is_rescued_and_the_old_owner_refused) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto id = q.enqueue("generate", make_user(db, "ada")).id;
  BOOST_TEST(q.claim("zombie", 1, lease_ms).size() == 1u);
  // Not expired: nobody else gets it.
  BOOST_TEST(q.claim("rescuer", 1, lease_ms).empty());
  expire_lease(db, id);
  auto rescued = q.claim("rescuer", 1, lease_ms);
  BOOST_REQUIRE(rescued.size() == 1u);
  BOOST_TEST(rescued[0].id == id);
  BOOST_TEST(rescued[0].lease_owner == "rescuer");
  BOOST_TEST(rescued[0].attempts == 2);
  BOOST_TEST(rescued[0].last_error.find("lease of zombie expired")
             != std::string::npos);
  // The zombie's answers are refused and change nothing.
  BOOST_TEST(!q.complete(id, "zombie"));
  BOOST_TEST(q.fail(id, "zombie", "boom").empty());
  BOOST_TEST(q.renew("zombie", {id}, lease_ms).empty());
  BOOST_TEST(q.release("zombie", {id}) == 0u);
  BOOST_TEST(q.get(id)->state == "running");
  BOOST_TEST(q.get(id)->lease_owner == "rescuer");
  BOOST_TEST(q.complete(id, "rescuer"));
  BOOST_TEST(q.get(id)->state == "done");
  BOOST_TEST(q.get(id)->finished_unix_ms > 0);
  BOOST_TEST(!q.complete(id, "rescuer"));
}

BOOST_AUTO_TEST_CASE(a_short_lease_expires_on_the_database_clock) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto id = q.enqueue("generate", make_user(db, "ada")).id;
  BOOST_TEST(q.claim("brief", 1, 1).size() == 1u);
  // A 1 ms lease runs out on its own; each claim is a round trip, so a
  // bounded number of them covers it.
  constexpr int claims_max = 10000;
  std::vector<job_record> rescued;
  int claims = 0;
  while (rescued.empty() && claims < claims_max) {
    rescued = q.claim("rescuer", 1, lease_ms);
    ++claims;
  }
  BOOST_TEST_MESSAGE("a 1 ms lease was rescued on claim " << claims);
  BOOST_REQUIRE(rescued.size() == 1u);
  BOOST_TEST(rescued[0].id == id);
  BOOST_TEST(!q.complete(id, "brief"));
}

BOOST_AUTO_TEST_CASE(an_expired_lease_on_the_last_attempt_fails_the_job) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto id = q.enqueue("generate", make_user(db, "ada"), "{}", 0, 1).id;
  auto other = q.enqueue("generate", make_user(db, "bob")).id;
  BOOST_TEST(q.claim("dying", 1, lease_ms).size() == 1u);
  expire_lease(db, id);
  // The claim fails the exhausted job and takes the next one instead.
  auto claimed = q.claim("rescuer", 5, lease_ms);
  BOOST_TEST((ids_of(claimed) == std::vector<std::int64_t>{other}));
  auto job = q.get(id);
  BOOST_TEST(job->state == "failed");
  BOOST_TEST(job->attempts == 1);
  BOOST_TEST(job->lease_owner.empty());
  BOOST_TEST(job->finished_unix_ms > 0);
  BOOST_TEST(job->last_error.find("lease of dying expired during attempt 1 "
                                  "of 1")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ending_a_dead_owners_leases_lets_the_next_claim_rescue_them) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto a1 = q.enqueue("generate", make_user(db, "a1")).id;
  auto a2 = q.enqueue("sync_contacts", make_user(db, "a2")).id;
  BOOST_TEST(q.claim("dead", 2, lease_ms).size() == 2u);
  auto b = q.enqueue("generate", make_user(db, "b")).id;
  BOOST_TEST(q.claim("alive", 1, lease_ms).size() == 1u);
  // Live leases: nobody else gets a job.
  BOOST_TEST(q.claim("rescuer", 10, lease_ms).empty());

  BOOST_TEST(q.expire_leases("dead") == 2);
  auto now = q.now_unix_ms();
  BOOST_TEST(q.get(a1)->lease_expires_unix_ms <= now);
  BOOST_TEST(q.get(a2)->lease_expires_unix_ms <= now);
  // The very next claim, a transaction of its own, takes both at once.
  auto rescued = q.claim("rescuer", 10, lease_ms);
  BOOST_TEST((ids_of(rescued) == std::vector<std::int64_t>{a1, a2}));
  for (auto& j : rescued) {
    BOOST_TEST(j.lease_owner == "rescuer");
    BOOST_TEST(j.attempts == 2);
    BOOST_TEST(j.lease_expires_unix_ms >= now + lease_ms - 1);
    BOOST_TEST(j.last_error.find("lease of dead expired")
               != std::string::npos);
  }
  // The dead owner's late answers are refused and change nothing.
  BOOST_TEST(!q.complete(a1, "dead"));
  BOOST_TEST(q.fail(a2, "dead", "late").empty());
  BOOST_TEST(q.renew("dead", {a1, a2}, lease_ms).empty());
  BOOST_TEST(q.get(a1)->state == "running");
  BOOST_TEST(q.get(a1)->lease_owner == "rescuer");
  BOOST_TEST(q.get(a2)->lease_owner == "rescuer");
  // Another owner's lease is untouched and still its own.
  auto alive = q.get(b);
  BOOST_TEST(alive->lease_owner == "alive");
  BOOST_TEST(alive->lease_expires_unix_ms > now);
  BOOST_TEST(q.complete(b, "alive"));
  BOOST_TEST(q.complete(a1, "rescuer"));
  // Nothing is left to end; nor for an owner that holds nothing.
  BOOST_TEST(q.expire_leases("dead") == 0);
  BOOST_TEST(q.expire_leases("nobody") == 0);
  BOOST_TEST((code_of([&] { q.expire_leases(""); }) == ec::invalid_input));
}

BOOST_AUTO_TEST_CASE(ended_leases_follow_the_rules_of_any_expired_lease) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto last = q.enqueue("generate", make_user(db, "last"), "{}", 0, 1).id;
  auto mistaken = q.enqueue("generate", make_user(db, "mistaken")).id;
  auto stale = q.enqueue("generate", make_user(db, "stale")).id;
  BOOST_TEST(q.claim("suspect", 3, lease_ms).size() == 3u);
  // A lease that ran out already is not ended again (nor counted).
  expire_lease(db, stale);
  BOOST_TEST(q.expire_leases("suspect") == 2);
  // Declared down by mistake: until another node claims a job, its owner
  // still holds it and may renew and finish it.
  BOOST_TEST((q.renew("suspect", {mistaken}, lease_ms)
              == std::vector<std::int64_t>{mistaken}));
  BOOST_TEST(q.complete(mistaken, "suspect"));
  // The next claim rescues the stale job and fails the one on its last
  // attempt instead of running it again.
  BOOST_TEST((ids_of(q.claim("rescuer", 10, lease_ms))
              == std::vector<std::int64_t>{stale}));
  auto job = q.get(last);
  BOOST_TEST(job->state == "failed");
  BOOST_TEST(job->last_error.find("lease of suspect expired during attempt 1 "
                                  "of 1")
             != std::string::npos);
  BOOST_TEST(q.get(mistaken)->state == "done");
}

BOOST_AUTO_TEST_CASE(renew_extends_and_returns_only_the_leases_still_held) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto a = q.enqueue("generate", make_user(db, "a")).id;
  auto b = q.enqueue("generate", make_user(db, "b")).id;
  auto c = q.enqueue("generate", make_user(db, "c")).id;
  BOOST_TEST(q.claim("n1", 3, 1000).size() == 3u);
  expire_lease(db, b);
  BOOST_TEST((ids_of(q.claim("n2", 3, lease_ms))
              == std::vector<std::int64_t>{b}));
  BOOST_TEST(q.complete(c, "n1"));
  // An expired lease nobody took is still held.
  expire_lease(db, a);
  auto before = q.now_unix_ms();
  auto held = q.renew("n1", {c, b, a, 999999}, 120000);
  BOOST_TEST((held == std::vector<std::int64_t>{a}));
  BOOST_TEST(q.get(a)->lease_expires_unix_ms >= before + 120000 - 1);
  BOOST_TEST(q.renew("n1", {}, lease_ms).empty());
  BOOST_TEST((q.renew("n2", {a, b}, lease_ms) == std::vector<std::int64_t>{b}));
}

BOOST_AUTO_TEST_CASE(failures_back_off_exponentially_then_fail_for_good) {
  migrated_database m;
  auto& db = m.db;
  // The queue's clock stands still, so run_at minus it is the wait.
  std::atomic<std::int64_t> now{db.server_clock_unix_ms()};
  job_queue q{db.url(), wall_clock{[&now] { return now.load(); }}};
  auto id = q.enqueue("sync_calendar", make_user(db, "ada"), "{}", 0, 4).id;
  retry_policy policy;
  policy.backoff_initial_ms = 1000;
  policy.backoff_max_ms = 3000;
  // The n-th failure waits min(1000 * 2^(n-1), 3000) ms, jittered to
  // [half, all] of it, from the queue's now.
  std::vector<std::int64_t> delays = {1000, 2000, 3000};
  for (std::size_t n = 0; n < delays.size(); ++n) {
    auto claimed = q.claim("n1", 1, lease_ms);
    BOOST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST(claimed[0].attempts == static_cast<std::int32_t>(n + 1));
    auto error = "timeout " + std::to_string(n + 1);
    BOOST_TEST(q.fail(id, "n1", error, policy) == "pending");
    auto wait = q.get(id)->run_at_unix_ms - now.load();
    BOOST_TEST_MESSAGE("failure " << n + 1 << ": retry in " << wait
                                  << " ms");
    BOOST_TEST(wait >= delays[n] / 2);
    BOOST_TEST(wait <= delays[n]);
    auto job = q.get(id);
    BOOST_TEST(job->state == "pending");
    BOOST_TEST(job->last_error == error);
    BOOST_TEST(job->lease_owner.empty());
    BOOST_TEST(job->finished_unix_ms == 0);
    // Not due before its backoff; due when the clock has moved past it
    // (the wait read back is floored to whole milliseconds).
    BOOST_TEST(q.claim("n1", 1, lease_ms).empty());
    now += wait + 1;
  }
  BOOST_TEST(q.claim("n1", 1, lease_ms).size() == 1u);
  BOOST_TEST(q.fail(id, "n1", "timeout 4", policy) == "failed");
  auto job = q.get(id);
  BOOST_TEST(job->state == "failed");
  BOOST_TEST(job->attempts == 4);
  BOOST_TEST(job->last_error == "timeout 4");
  BOOST_TEST(job->finished_unix_ms > 0);
  BOOST_TEST(q.claim("n1", 1, lease_ms).empty());
  BOOST_TEST(q.fail(id, "n1", "again", policy).empty());
  // A bad policy is refused before anything changes.
  retry_policy backwards;
  backwards.backoff_initial_ms = 10;
  backwards.backoff_max_ms = 5;
  BOOST_TEST((code_of([&] { q.fail(id, "n1", "x", backwards); })
              == ec::invalid_input));
}

BOOST_AUTO_TEST_CASE(the_backoff_is_jittered_between_half_and_all_of_it) {
  migrated_database m;
  auto& db = m.db;
  std::atomic<std::int64_t> now{db.server_clock_unix_ms()};
  job_queue q{db.url(), wall_clock{[&now] { return now.load(); }}};
  db.query("INSERT INTO users (email) SELECT 'u' || g || '@example.org' "
           "FROM generate_series(1, 200) g RETURNING 1");
  db.query("INSERT INTO jobs (kind, user_id) SELECT 'generate', id FROM "
           "users RETURNING 1");
  now = db.server_clock_unix_ms(); // after the inserts: all are due
  retry_policy policy;
  policy.backoff_initial_ms = 10000;
  policy.backoff_max_ms = 10000;
  for (auto& j : q.claim("n1", 200, lease_ms))
    BOOST_TEST(q.fail(j.id, "n1", "x", policy) == "pending");
  auto low = number(db, "SELECT min(floor(extract(epoch FROM run_at) * "
                        "1000))::bigint FROM jobs")
             - now.load();
  auto high = number(db, "SELECT max(floor(extract(epoch FROM run_at) * "
                         "1000))::bigint FROM jobs")
              - now.load();
  BOOST_TEST_MESSAGE("200 waits of a 10 s backoff: " << low << ".." << high
                                                     << " ms");
  BOOST_TEST(low >= 5000);
  BOOST_TEST(high <= 10000);
  // Spread, not one value: 200 draws from [5000, 10000] span most of it.
  BOOST_TEST(high - low > 3000);
}

BOOST_AUTO_TEST_CASE(a_failure_text_is_stored_whatever_its_bytes) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto id = q.enqueue("generate", make_user(db, "ada"), "{}", 0, 1).id;
  q.claim("n1", 1, lease_ms);
  BOOST_TEST(q.fail(id, "n1", std::string{"bad \xff\x00 bytes", 12}
                                + std::string(20000, 'x'))
             == "failed");
  auto error = q.get(id)->last_error;
  BOOST_TEST(error.substr(0, 12) == "bad ?? bytes");
  BOOST_TEST(error.size() == 8192u);
}

BOOST_AUTO_TEST_CASE(a_job_released_after_outliving_its_lease_counts_the_attempt) {
  migrated_database m;
  auto& db = m.db;
  // The queue's clock moves only when the test says.
  std::atomic<std::int64_t> now{db.server_clock_unix_ms()};
  job_queue q{db.url(), wall_clock{[&now] { return now.load(); }}};
  auto id = q.enqueue("sync_contacts", make_user(db, "ada"), "{}", 0, 2).id;
  // Released within its lease: the attempt is given back, as before.
  BOOST_REQUIRE_EQUAL(q.claim("n1", 1, lease_ms).size(), 1u);
  now += lease_ms;
  BOOST_TEST(q.release("n1", {id}, lease_ms) == 1u);
  BOOST_TEST(q.get(id)->state == "pending");
  BOOST_TEST(q.get(id)->attempts == 0);
  // Released after running longer than its lease: the attempt counts.
  BOOST_REQUIRE_EQUAL(q.claim("n2", 1, lease_ms).size(), 1u);
  now += lease_ms + 1;
  BOOST_TEST(q.release("n2", {id}, lease_ms) == 1u);
  auto job = q.get(id);
  BOOST_TEST(job->state == "pending");
  BOOST_TEST(job->attempts == 1);
  BOOST_TEST(job->last_error.find("attempt 1 of 2 counted: handed back by n2 "
                                  "on shutdown after running longer than "
                                  "its lease")
               != std::string::npos,
             job->last_error);
  // The last attempt, outliving its lease again: the job fails with why,
  // and stays failed (no node claims it).
  BOOST_REQUIRE_EQUAL(q.claim("n3", 1, lease_ms).size(), 1u);
  now += 10 * lease_ms;
  BOOST_TEST(q.release("n3", {id}, lease_ms) == 1u);
  job = q.get(id);
  BOOST_TEST(job->state == "failed");
  BOOST_TEST(job->attempts == 2);
  BOOST_TEST(job->last_error.find("no attempt left") != std::string::npos,
             job->last_error);
  BOOST_TEST(job->finished_unix_ms == now.load());
  BOOST_TEST(q.claim("n4", 1, lease_ms).empty());
}

BOOST_AUTO_TEST_CASE(release_hands_jobs_back_at_once_without_the_attempt) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto now = q.now_unix_ms();
  auto a = q.enqueue("generate", make_user(db, "a"), "{}", now - 5000).id;
  auto b = q.enqueue("generate", make_user(db, "b"), "{}", now - 4000).id;
  BOOST_TEST(q.claim("n1", 2, lease_ms).size() == 2u);
  BOOST_TEST(q.release("n2", {a, b}) == 0u);
  BOOST_TEST(q.release("n1", {a, b, 424242}) == 2u);
  auto after = q.now_unix_ms();
  for (auto id : {a, b}) {
    auto job = q.get(id);
    BOOST_TEST(job->state == "pending");
    BOOST_TEST(job->attempts == 0);
    BOOST_TEST(job->lease_owner.empty());
    BOOST_TEST(job->lease_expires_unix_ms == 0);
    BOOST_TEST(job->run_at_unix_ms >= now);
    BOOST_TEST(job->run_at_unix_ms <= after);
  }
  auto again = q.claim("n3", 5, lease_ms);
  BOOST_TEST(again.size() == 2u);
  for (auto& j : again)
    BOOST_TEST(j.attempts == 1);
  BOOST_TEST(q.release("n3", {}) == 0u);
}

BOOST_AUTO_TEST_CASE(retry_and_cancel_move_only_the_states_they_may) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto user = make_user(db, "ada");
  auto id = q.enqueue("generate", user, "{}", 0, 1).id;
  BOOST_TEST(q.cancel(id));
  BOOST_TEST(q.get(id)->state == "cancelled");
  BOOST_TEST(q.get(id)->finished_unix_ms > 0);
  BOOST_TEST(!q.cancel(id));
  BOOST_TEST(q.retry(id));
  BOOST_TEST(q.get(id)->state == "pending");
  BOOST_TEST(q.get(id)->finished_unix_ms == 0);
  BOOST_TEST(!q.retry(id));
  BOOST_TEST(q.claim("n1", 1, lease_ms).size() == 1u);
  BOOST_TEST(!q.cancel(id));
  BOOST_TEST(!q.retry(id));
  BOOST_TEST(q.fail(id, "n1", "broken") == "failed");
  // A failed job may run again with fresh attempts ...
  BOOST_TEST(q.retry(id));
  auto job = q.get(id);
  BOOST_TEST(job->state == "pending");
  BOOST_TEST(job->attempts == 0);
  BOOST_TEST(job->last_error == "broken");
  BOOST_TEST(q.claim("n1", 1, lease_ms).size() == 1u);
  BOOST_TEST(q.complete(id, "n1"));
  BOOST_TEST(!q.retry(id));
  BOOST_TEST(!q.cancel(id));
  // ... but not while another of its kind and user is pending.
  auto failed = q.enqueue("sync_contacts", user, "{}", 0, 1).id;
  q.claim("n1", 1, lease_ms);
  BOOST_TEST(q.fail(failed, "n1", "x") == "failed");
  auto pending = q.enqueue("sync_contacts", user);
  BOOST_TEST(pending.created);
  BOOST_TEST(!q.retry(failed));
  BOOST_TEST(q.get(failed)->state == "failed");
  BOOST_TEST(!q.retry(424242));
  BOOST_TEST(!q.cancel(424242));
  BOOST_TEST(!q.get(424242).has_value());
}

BOOST_AUTO_TEST_CASE(a_retry_or_release_superseded_by_a_pending_job_is_cancelled) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto user = make_user(db, "ada");
  // fail: a new request came in while the job ran.
  auto old_job = q.enqueue("generate", user).id;
  q.claim("n1", 1, lease_ms);
  auto newer = q.enqueue("generate", user);
  BOOST_TEST(newer.created);
  BOOST_TEST(q.fail(old_job, "n1", "boom") == "cancelled");
  auto job = q.get(old_job);
  BOOST_TEST(job->state == "cancelled");
  BOOST_TEST(job->finished_unix_ms > 0);
  BOOST_TEST(job->last_error
             == "boom (not retried: superseded by pending job "
                  + std::to_string(newer.id) + ")");
  BOOST_TEST(q.get(newer.id)->state == "pending");

  // release: the same.
  BOOST_TEST((ids_of(q.claim("n1", 1, lease_ms))
              == std::vector<std::int64_t>{newer.id}));
  auto third = q.enqueue("generate", user).id;
  BOOST_TEST(q.release("n1", {newer.id}) == 1u);
  BOOST_TEST(q.get(newer.id)->state == "cancelled");
  BOOST_TEST(q.get(newer.id)->last_error.find("superseded by job "
                                              + std::to_string(third))
             != std::string::npos);

  // release of two of one kind and user held by one node: the newer stays.
  q.claim("n1", 1, lease_ms);
  auto fourth = q.enqueue("generate", user).id;
  q.claim("n1", 1, lease_ms);
  BOOST_TEST(q.release("n1", {third, fourth}) == 2u);
  BOOST_TEST(q.get(third)->state == "cancelled");
  BOOST_TEST(q.get(fourth)->state == "pending");
  BOOST_TEST(q.get(fourth)->attempts == 0);

  // On its last attempt a job fails, superseded or not.
  auto other = make_user(db, "bob");
  auto last = q.enqueue("sync_contacts", other, "{}", 0, 1).id;
  q.claim("n1", 5, lease_ms);
  q.enqueue("sync_contacts", other);
  BOOST_TEST(q.fail(last, "n1", "boom") == "failed");
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs WHERE state = 'pending' "
                        "GROUP BY kind, user_id ORDER BY 1 DESC LIMIT 1")
             == 1);
}

BOOST_AUTO_TEST_CASE(enqueue_fail_and_release_racing_on_one_user_never_error) {
  migrated_database m;
  auto& db = m.db;
  auto user = make_user(db, "ada");
  // Every failure comes back due at once, so the three keep colliding on
  // the one pending slot of (generate, ada).
  retry_policy now_again;
  now_again.backoff_initial_ms = 0;
  now_again.backoff_max_ms = 0;
  constexpr int rounds = 100;
  std::vector<int> outcomes(3, 0);
  test::run_together(3, [&](int i) {
    job_queue q{db.url(), server_clock(db)};
    for (int r = 0; r < rounds; ++r) {
      if (i == 0) {
        outcomes[0] += q.enqueue("generate", user, "{}", 0, 100).created;
        continue;
      }
      auto owner = "n" + std::to_string(i);
      auto jobs = q.claim(owner, 5, lease_ms);
      if (i == 1)
        for (auto& j : jobs)
          outcomes[1] += !q.fail(j.id, owner, "x", now_again).empty();
      else
        outcomes[2] += static_cast<int>(q.release(owner, ids_of(jobs)));
    }
  });
  BOOST_TEST_MESSAGE("created " << outcomes[0] << ", failed " << outcomes[1]
                                << ", released " << outcomes[2]);
  BOOST_TEST(outcomes[0] >= 1);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs WHERE state = 'pending'")
             <= 1);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs WHERE state = 'running'")
             == 0);
}

BOOST_AUTO_TEST_CASE(the_schedule_enqueues_each_active_user_once_spread_out) {
  migrated_database m;
  auto& db = m.db;
  for (int i = 0; i < 5; ++i)
    make_user(db, "active" + std::to_string(i));
  make_user(db, "asleep", false);
  job_queue q{db.url(), server_clock(db)};
  constexpr std::int64_t interval_ms = 3600 * 1000;
  auto before = q.now_unix_ms();
  BOOST_TEST(q.schedule_generation("generate", interval_ms) == 5);
  BOOST_TEST(q.schedule_generation("generate", interval_ms) == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs") == 5);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs j JOIN users u ON "
                        "u.id = j.user_id WHERE u.active AND "
                        "j.kind = 'generate' AND j.state = 'pending'")
             == 5);
  // Evenly spread in user id order: the k-th runs k/5 of the interval on.
  auto offsets = db.query(
    "SELECT (extract(epoch FROM j.run_at - s.last_run_at) * 1000)::bigint "
    "FROM jobs j, schedule_state s WHERE s.name = 'generate' "
    "ORDER BY j.user_id");
  BOOST_REQUIRE(offsets.size() == 5u);
  for (std::size_t k = 0; k < offsets.size(); ++k)
    BOOST_TEST(std::stoll(offsets[k])
               == static_cast<std::int64_t>(k) * interval_ms / 5);
  auto next_due = number(db, "SELECT floor(extract(epoch FROM next_due_at) "
                             "* 1000)::bigint FROM schedule_state WHERE "
                             "name = 'generate'");
  BOOST_TEST(next_due >= before + interval_ms - 1);
  BOOST_TEST(next_due <= q.now_unix_ms() + interval_ms);
  // Due again while every user still has one pending: nothing to add, and
  // the schedule moves on.
  db.query("UPDATE schedule_state SET next_due_at = now() RETURNING 1");
  BOOST_TEST(q.schedule_generation("generate", interval_ms) == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM schedule_state WHERE "
                        "next_due_at > now() AND last_enqueued = 0")
             == 1);
  // Another schedule name keeps its own state.
  BOOST_TEST(q.schedule_generation("other", interval_ms) == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM schedule_state") == 2);
  BOOST_TEST((code_of([&] { q.schedule_generation("generate", 0); })
              == ec::invalid_input));
}

BOOST_AUTO_TEST_CASE(nodes_running_the_schedule_at_once_enqueue_each_user_once) {
  migrated_database m;
  auto& db = m.db;
  constexpr int users = 300;
  db.query("INSERT INTO users (email) SELECT 'u' || g || '@example.org' "
           "FROM generate_series(1, " + std::to_string(users)
           + ") g RETURNING 1");
  constexpr int nodes = 4;
  std::vector<std::int64_t> enqueued(nodes, 0);
  test::run_together(nodes, [&](int i) {
    job_queue q{db.url(), server_clock(db)};
    enqueued[static_cast<std::size_t>(i)]
      = q.schedule_generation("generate", 60000);
  });
  std::int64_t total = 0;
  for (auto n : enqueued)
    total += n;
  BOOST_TEST(total == users);
  BOOST_TEST(std::count(enqueued.begin(), enqueued.end(), 0) == nodes - 1);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs") == users);
  BOOST_TEST(number(db, "SELECT count(DISTINCT user_id) FROM jobs") == users);
}

BOOST_AUTO_TEST_CASE(a_listener_wakes_on_a_new_job_and_times_out_without) {
  migrated_database m;
  auto& db = m.db;
  auto user = make_user(db, "ada");
  job_queue listener{db.url(), server_clock(db)};
  job_queue producer{db.url(), server_clock(db)};
  listener.listen();
  listener.listen(); // once is enough; again is harmless
  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock::now() - t)
      .count();
  };
  auto start = clock::now();
  BOOST_TEST(!listener.wait_for_notification(50));
  auto quiet_ms = ms_since(start);
  BOOST_TEST(quiet_ms >= 49);
  BOOST_TEST(quiet_ms < 2000);
  BOOST_TEST(!listener.wait_for_notification(0));

  // From another connection while waiting.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    producer.enqueue("generate", user);
  });
  start = clock::now();
  bool woke = listener.wait_for_notification(10000);
  auto woke_ms = ms_since(start);
  later.join();
  BOOST_TEST(woke);
  BOOST_TEST(woke_ms < 5000);
  BOOST_TEST_MESSAGE("woken " << woke_ms << " ms into the wait (the enqueue "
                              "came after 20 ms)");
  // Reported once.
  BOOST_TEST(!listener.wait_for_notification(10));

  // One that arrived before the wait counts too, from plain SQL as well.
  db.query("SELECT id FROM catchup_enqueue('sync_contacts', '" + user + "')");
  BOOST_TEST(listener.wait_for_notification(5000));
  // A no-op enqueue inserts nothing and so wakes nobody.
  producer.enqueue("generate", user);
  BOOST_TEST(!listener.wait_for_notification(50));
  // A job back to pending wakes too.
  auto claimed = producer.claim("n1", 10, lease_ms);
  BOOST_TEST(claimed.size() == 2u);
  BOOST_TEST(!listener.wait_for_notification(10));
  BOOST_TEST(producer.release("n1", ids_of(claimed)) == 2u);
  BOOST_TEST(listener.wait_for_notification(5000));
}

BOOST_AUTO_TEST_CASE(depth_and_list_report_the_jobs_by_state) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto now = q.now_unix_ms();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(q.enqueue("generate", make_user(db, "u" + std::to_string(i)),
                            "{}", i == 5 ? now + 3600000 : 0, 1)
                    .id);
  auto claimed = q.claim("n1", 3, lease_ms);
  BOOST_REQUIRE(claimed.size() == 3u);
  q.complete(claimed[0].id, "n1");
  q.fail(claimed[1].id, "n1", "x");
  q.cancel(ids[3]);
  auto d = q.depth();
  BOOST_TEST(d.pending == 2);
  BOOST_TEST(d.due == 1);
  BOOST_TEST(d.running == 1);
  BOOST_TEST(d.done == 1);
  BOOST_TEST(d.failed == 1);
  BOOST_TEST(d.cancelled == 1);
  auto all = q.list("", 100);
  BOOST_TEST(all.size() == 6u);
  BOOST_TEST(all.front().id == ids.back());
  BOOST_TEST(all.back().id == ids.front());
  BOOST_TEST(q.list("", 2).size() == 2u);
  BOOST_TEST(q.list("pending", 100).size() == 2u);
  auto failed = q.list("failed", 100);
  BOOST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(failed[0].id == claimed[1].id);
  BOOST_TEST(failed[0].last_error == "x");
  BOOST_TEST(q.list("running", 0).empty());
}

BOOST_AUTO_TEST_CASE(deleting_a_user_deletes_their_jobs) {
  migrated_database m;
  auto& db = m.db;
  job_queue q{db.url(), server_clock(db)};
  auto gone = make_user(db, "gone");
  auto kept = make_user(db, "kept");
  q.enqueue("generate", gone);
  q.enqueue("sync_contacts", gone);
  q.enqueue("generate", kept);
  q.claim("n1", 1, lease_ms);
  db.query("DELETE FROM users WHERE id = '" + gone + "' RETURNING id");
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs") == 1);
  BOOST_TEST(number(db, "SELECT count(*) FROM jobs WHERE user_id = '" + kept
                        + "'")
             == 1);
}

// Jobs are due by the queue's clock, whatever the real date; leases run on
// the database's clock. With the clock ten years either way, enqueue,
// claim, backoff, release, retry, depth and schedules behave as with the
// real one.
BOOST_AUTO_TEST_CASE(run_times_follow_the_queue_clock_and_leases_the_database) {
  constexpr std::int64_t ten_years_ms = 3652LL * 86400 * 1000;
  for (auto shift : {-ten_years_ms, ten_years_ms}) {
    BOOST_TEST_CONTEXT("clock moved by " << shift << " ms") {
      migrated_database m;
      auto& db = m.db;
      std::atomic<std::int64_t> now{db.server_clock_unix_ms() + shift};
      job_queue q{db.url(), wall_clock{[&now] { return now.load(); }}};
      BOOST_TEST(q.now_unix_ms() == now.load());
      auto due = q.enqueue("generate", make_user(db, "due")).id;
      auto later = q.enqueue("generate", make_user(db, "later"), "{}",
                             now + 3600 * 1000)
                     .id;
      BOOST_TEST(q.get(due)->run_at_unix_ms == now.load());
      auto d = q.depth();
      BOOST_TEST(d.pending == 2);
      BOOST_TEST(d.due == 1);
      auto lease_before = q.lease_clock_unix_ms();
      auto claimed = q.claim("n1", 10, lease_ms);
      BOOST_REQUIRE((ids_of(claimed) == std::vector<std::int64_t>{due}));
      // The lease is on the database's (real) clock, not the shifted one.
      BOOST_TEST(claimed[0].lease_expires_unix_ms >= lease_before + lease_ms - 1);
      BOOST_TEST(claimed[0].lease_expires_unix_ms
                 <= q.lease_clock_unix_ms() + lease_ms);
      // A failure backs off from the queue's now.
      retry_policy policy;
      policy.backoff_initial_ms = 60000;
      policy.backoff_max_ms = 60000;
      BOOST_TEST(q.fail(due, "n1", "boom", policy) == "pending");
      auto retried = q.get(due)->run_at_unix_ms;
      BOOST_TEST(retried >= now + 30000 - 1);
      BOOST_TEST(retried <= now + 60000 + 1);
      BOOST_TEST(q.claim("n1", 10, lease_ms).empty());
      // The clock moves on an hour: both are due.
      now += 3600 * 1000;
      auto both = q.claim("n1", 10, lease_ms);
      BOOST_TEST(both.size() == 2u);
      BOOST_TEST(q.release("n1", {due}) == 1u);
      BOOST_TEST(q.get(due)->run_at_unix_ms == now.load());
      BOOST_TEST(q.complete(later, "n1"));
      BOOST_TEST(q.get(later)->finished_unix_ms == now.load());
      // The schedule: due at once, next due one interval on.
      make_user(db, "scheduled");
      BOOST_TEST(q.schedule_generation("s", 3600 * 1000) >= 1);
      BOOST_TEST(number(db, "SELECT floor(extract(epoch FROM next_due_at) "
                            "* 1000)::bigint FROM schedule_state WHERE "
                            "name = 's'")
                 == now + 3600 * 1000);
      BOOST_TEST(q.schedule_generation("s", 3600 * 1000) == 0);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
