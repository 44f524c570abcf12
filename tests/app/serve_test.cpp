// SPDX-License-Identifier: Apache-2.0
// `catchup serve` as operators run it: nodes that take generation jobs from
// the queue, a node killed with SIGKILL mid-batch whose jobs another node
// rescues (every job done once in effect, no duplicate suggestions), a
// graceful SIGTERM that hands unfinished jobs back, and the HTTP endpoint:
// /readyz following the database, /metrics accepted by promtool.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <sys/stat.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "storage/migrations.hpp"
#include "storage/process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/catchup_binary.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_database.hpp"
#include "tests/app/serve_fixture.hpp"

using namespace catchup;
using namespace std::chrono_literals;

namespace {

using test::binary;
using test::has;
using test::run;
using test::http_port;
using fixture = test::serve_fixture;

} // namespace

BOOST_FIXTURE_TEST_SUITE(app_serve, fixture)

BOOST_AUTO_TEST_CASE(a_killed_nodes_jobs_are_rescued_and_done_once) {
  seed_and_enqueue(40);
  BOOST_REQUIRE_EQUAL(count("SELECT count(*) FROM jobs"), 40);
  {
    auto a = node("node-a", {"--node-jobs-max", "2"});
    BOOST_REQUIRE(wait_count("SELECT count(*) FROM jobs WHERE state = 'done'",
                             3, 60s));
    a->signal(SIGKILL);
    a->wait(10s);
  }
  auto done_by_a = count("SELECT count(*) FROM jobs WHERE state = 'done'");
  BOOST_TEST_MESSAGE("node A finished " << done_by_a << " jobs before SIGKILL");
  auto b = node("node-b", {"--node-jobs-max", "4"});
  BOOST_REQUIRE_MESSAGE(
    wait_count("SELECT count(*) FROM jobs WHERE state = 'done'", 40, 120s),
    "jobs: " << count("SELECT count(*) FROM jobs WHERE state <> 'done'")
             << " not done\n" << b->output());
  // Every user generated: one generation's suggestions each, none twice.
  BOOST_TEST(count("SELECT count(DISTINCT user_id) FROM suggestions WHERE "
                   "status = 'pending'")
             == 40);
  BOOST_TEST(count("SELECT count(*) FROM (SELECT user_id, contact_id FROM "
                   "suggestions WHERE status = 'pending' GROUP BY 1, 2 "
                   "HAVING count(*) > 1) d")
             == 0);
  BOOST_TEST(count("SELECT count(*) FROM jobs WHERE lease_owner IS NOT NULL "
                   "AND state = 'done' AND lease_owner NOT IN ('node-a', "
                   "'node-b')")
             == 0);
  b->signal(SIGTERM);
  BOOST_TEST(b->wait(60s) == 0, b->output());
  BOOST_TEST(has(b->output(), "catchup serve: stopped"), b->output());
}

BOOST_AUTO_TEST_CASE(two_nodes_drain_1000_jobs_each_done_once) {
  seed_and_enqueue(1000);
  BOOST_REQUIRE_EQUAL(count("SELECT count(*) FROM jobs"), 1000);
  // Leases long enough that no heartbeat delay on a loaded machine lets
  // one expire: this test is about sharing, not rescue.
  auto a = node("drain-a", {}, "60000");
  auto b = node("drain-b", {}, "60000");
  BOOST_REQUIRE_MESSAGE(
    wait_count("SELECT count(*) FROM jobs WHERE state = 'done'", 1000, 300s),
    count("SELECT count(*) FROM jobs WHERE state <> 'done'")
      << " jobs not done");
  // Each job ran once (no lease expired, nothing rescued), both nodes
  // took part, and every user has one generation's suggestions.
  BOOST_TEST(count("SELECT count(*) FROM jobs WHERE attempts <> 1") == 0);
  BOOST_TEST(count("SELECT count(*) FROM generations") == 1000);
  BOOST_TEST(count("SELECT count(*) FROM (SELECT user_id, contact_id FROM "
                   "suggestions WHERE status = 'pending' GROUP BY 1, 2 "
                   "HAVING count(*) > 1) d")
             == 0);
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  BOOST_TEST(a->wait(60s) == 0);
  BOOST_TEST(b->wait(60s) == 0);
  // Both took part, and their completions add up to the jobs.
  auto completed = [](test::child_process& p) {
    std::smatch m;
    auto out = p.output();
    BOOST_REQUIRE(std::regex_search(
      out, m, std::regex{"stopped; (\\d+) jobs completed"}));
    return std::stoll(m[1]);
  };
  auto by_a = completed(*a);
  auto by_b = completed(*b);
  BOOST_TEST_MESSAGE("node a completed " << by_a << ", node b " << by_b);
  BOOST_TEST(by_a > 0);
  BOOST_TEST(by_b > 0);
  BOOST_TEST(by_a + by_b == 1000);
}

BOOST_AUTO_TEST_CASE(operators_enqueue_list_retry_and_cancel_jobs) {
  seed_and_enqueue(1);
  auto user = db.query("SELECT id FROM users")[0];
  auto dup = run({"enqueue", "generate", "--user", user, "--database-url",
                  db.url()});
  BOOST_TEST(dup.exit_code == 0);
  BOOST_TEST(has(dup.output, "already pending"), dup.output);
  // A path this host cannot read is refused at once, with why.
  auto missing = run({"enqueue", "sync_contacts", "--user", user, "--payload",
                      "{\"path\": \"/nonexistent/contacts.vcf\"}",
                      "--database-url", db.url()});
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(has(missing.output, "cannot enqueue sync_contacts: cannot read "
                                 "/nonexistent/contacts.vcf: No such file"),
             missing.output);
  auto unknown = run({"enqueue", "sync_contacts", "--user", user, "--payload",
                      "{\"path\": \"/etc/hostname\"}", "--database-url",
                      db.url()});
  BOOST_TEST(unknown.exit_code == 1);
  BOOST_TEST(has(unknown.output, "unknown contacts format"), unknown.output);
  // A file that goes away before a node runs the job fails it instead.
  test::temp_dir dir;
  auto path = dir / "contacts.vcf";
  std::ofstream{path} << "BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n";
  auto sync = run({"enqueue", "sync_contacts", "--user", user, "--payload",
                   "{\"path\": \"" + path + "\"}", "--max-attempts", "1",
                   "--database-url", db.url()});
  BOOST_TEST(sync.exit_code == 0, sync.output);
  BOOST_TEST(has(sync.output, "enqueued"), sync.output);
  std::filesystem::remove(path);
  auto list = run({"jobs", "list", "--database-url", db.url()});
  BOOST_TEST(has(list.output, "sync_contacts"), list.output);
  BOOST_TEST(has(list.output, "generate"), list.output);
  // One attempt: the missing file fails it for good, with the reason.
  auto n = node("ops");
  BOOST_REQUIRE(wait_count("SELECT count(*) FROM jobs WHERE state IN "
                           "('done', 'failed')",
                           2, 60s));
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(60s) == 0);
  auto id = db.query("SELECT id FROM jobs WHERE kind = 'sync_contacts'")[0];
  auto show = run({"jobs", "show", id, "--database-url", db.url()});
  BOOST_TEST(has(show.output, "\"state\": \"failed\""), show.output);
  BOOST_TEST(has(show.output, path), show.output);
  auto retry = run({"jobs", "retry", id, "--database-url", db.url()});
  BOOST_TEST(retry.exit_code == 0, retry.output);
  BOOST_TEST(db.query("SELECT state::text FROM jobs WHERE id = " + id)[0]
             == "pending");
  auto cancel = run({"jobs", "cancel", id, "--database-url", db.url()});
  BOOST_TEST(cancel.exit_code == 0, cancel.output);
  auto again = run({"jobs", "cancel", id, "--database-url", db.url()});
  BOOST_TEST(again.exit_code == 1);
  BOOST_TEST(has(again.output, "only a pending job can"), again.output);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_the_log_level) {
  test::temp_dir dir;
  auto conf = dir / "catchup.conf";
  {
    std::ofstream out{conf};
    out << "[log]\nlevel = info\n";
  }
  auto n = node("hup", {"--config", conf});
  {
    std::ofstream out{conf};
    out << "[log]\nlevel = debug\n";
  }
  n->signal(SIGHUP);
  BOOST_TEST(!n->wait_for_line(
                  [](const std::string& l) {
                    return has(l, "log level reloaded: debug");
                  },
                  30s)
                .empty(),
             n->output());
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(60s) == 0);
}

BOOST_AUTO_TEST_CASE(sigterm_hands_unfinished_jobs_back_and_exits_0) {
  seed_and_enqueue(1);
  auto user = db.query("SELECT id FROM users")[0];
  // A slow job: 20,000 cards imported 10 per page.
  test::temp_dir dir;
  auto path = dir / "slow.vcf";
  {
    std::ofstream out{path, std::ios::binary};
    for (int i = 0; i < 20000; ++i)
      out << "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:s" << i << "\r\nFN:P " << i
          << "\r\nEND:VCARD\r\n";
  }
  db.query("DELETE FROM jobs RETURNING 1");
  db.query("SELECT (catchup_enqueue('sync_contacts', '" + user
           + "', '{\"path\": \"" + path + "\"}'::jsonb, " + due_long_ago
           + ")).id");
  auto n = node("node-c", {"--sync-contacts-page-items", "10",
                           "--node-shutdown-grace-ms", "0"});
  BOOST_REQUIRE(wait_count("SELECT count(*) FROM contacts WHERE "
                           "external_uid LIKE 's%'",
                           10, 60s));
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(60s) == 0, n->output());
  BOOST_TEST(db.query("SELECT state || ' ' || attempts || ' ' || "
                      "coalesce(lease_owner, '-') FROM jobs WHERE kind = "
                      "'sync_contacts'")[0]
             == "pending 0 -");
}

BOOST_AUTO_TEST_CASE(poison_import_jobs_fail_with_why_and_never_hold_a_node) {
  seed_and_enqueue(3);
  // One user each: a user has one pending job of a kind at most.
  auto users = db.query("SELECT id FROM users ORDER BY id");
  BOOST_REQUIRE_EQUAL(users.size(), 3u);
  db.query("DELETE FROM jobs RETURNING 1");
  // A device that never ends, a pipe nobody writes, and a file whose one
  // line never ends within the item bound: each fails its one attempt.
  test::temp_dir dir;
  auto fifo = dir / "never-written.ics";
  BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
  auto runaway = dir / "one-line.ics";
  {
    std::ofstream out{runaway, std::ios::binary};
    // A calendar by its first line, so the kind check passes and the
    // reader meets the line that never ends.
    out << "BEGIN:VCALENDAR\r\nDESCRIPTION:" << std::string(5 * 1024 * 1024, 'A');
  }
  const std::vector<std::string> paths{"/dev/zero", fifo, runaway};
  for (std::size_t i = 0; i < paths.size(); ++i)
    db.query("SELECT (catchup_enqueue('sync_calendar', '" + users[i]
             + "', '{\"path\": \"" + paths[i] + "\"}'::jsonb, "
             + due_long_ago + ", 1)).id");
  auto n = node("node-p", {"--sync-item-bytes-max", "1048576"});
  BOOST_REQUIRE_MESSAGE(
    wait_count("SELECT count(*) FROM jobs WHERE state = 'failed'", 3, 60s),
    n->output());
  auto errors = db.query("SELECT last_error FROM jobs ORDER BY id");
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  BOOST_TEST(errors[0].find("/dev/zero: not a regular file") != std::string::npos,
             errors[0]);
  BOOST_TEST(errors[1].find("never-written.ics: not a regular file")
               != std::string::npos,
             errors[1]);
  BOOST_TEST(errors[2].find("one-line.ics:2: a line runs on past")
               != std::string::npos,
             errors[2]);
  // The node is still free: a generation job after them is done.
  db.query("SELECT (catchup_enqueue('generate', '" + users[0]
           + "', '{\"now\": 1772452800}'::jsonb, " + due_long_ago + ")).id");
  BOOST_REQUIRE_MESSAGE(
    wait_count("SELECT count(*) FROM jobs WHERE state = 'done'", 1, 60s),
    n->output());
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(60s) == 0, n->output());
}

BOOST_AUTO_TEST_CASE(a_lost_database_connection_costs_no_attempt) {
  seed_and_enqueue(1);
  auto user = db.query("SELECT id FROM users")[0];
  // An import of 3,000 cards, 10 a page, on its one and only attempt.
  test::temp_dir dir;
  auto path = dir / "cards.vcf";
  {
    std::ofstream out{path, std::ios::binary};
    for (int i = 0; i < 3000; ++i)
      out << "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:t" << i << "\r\nFN:P " << i
          << "\r\nEND:VCARD\r\n";
  }
  db.query("DELETE FROM jobs RETURNING 1");
  db.query("SELECT (catchup_enqueue('sync_contacts', '" + user
           + "', '{\"path\": \"" + path + "\"}'::jsonb, " + due_long_ago
           + ", 1)).id");
  // A lease far longer than the outage: this is about a lost connection,
  // not a node presumed dead (a lease that expires while the node
  // reconnects on a busy machine would rightly cost the job).
  auto n = node("node-t", {"--sync-contacts-page-items", "10",
                           "--node-retry-backoff-initial-ms", "100"},
                "30000");
  BOOST_REQUIRE(wait_count("SELECT count(*) FROM contacts WHERE "
                           "external_uid LIKE 't%'",
                           10, 60s));
  // The database drops every connection of the node, as a restart or a
  // failover does (SQLSTATE 57P01 on the next statement).
  auto dropped = count("SELECT count(pg_terminate_backend(pid)) FROM "
                       "pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()");
  BOOST_TEST(dropped > 0);
  BOOST_REQUIRE_MESSAGE(
    wait_count("SELECT count(*) FROM jobs WHERE state IN ('done', 'failed')",
               1, 120s),
    n->output());
  BOOST_TEST(db.query("SELECT state || ' ' || attempts || '/' || max_attempts "
                      "FROM jobs")[0]
               == "done 1/1",
             n->output());
  BOOST_TEST(count("SELECT count(*) FROM contacts WHERE external_uid LIKE "
                   "'t%'")
             == 3000);
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(60s) == 0, n->output());
}

BOOST_AUTO_TEST_CASE(readyz_follows_the_database_and_metrics_pass_promtool) {
  test::temp_dir dir;
  auto data_dir = dir / "pg";
  auto n = std::make_unique<test::child_process>(std::vector<std::string>{
    binary(), "serve", "--database-data-dir", data_dir, "--http-port", "0",
    "--schedule-generate-interval-ms", "0"});
  auto port = http_port(*n);
  httplib::Client http{"127.0.0.1", port};
  auto ready = http.Get("/readyz");
  BOOST_REQUIRE(ready);
  BOOST_TEST(ready->status == 200);
  auto live = http.Get("/livez");
  BOOST_REQUIRE(live);
  BOOST_TEST(live->status == 200);
  auto status = http.Get("/status");
  BOOST_REQUIRE(status);
  BOOST_TEST(has(status->body, "\"pressure\""), status->body);
  BOOST_TEST(has(status->body, "\"queue\""), status->body);

  auto metrics = http.Get("/metrics");
  BOOST_REQUIRE(metrics);
  BOOST_TEST(metrics->status == 200);
  BOOST_TEST(has(metrics->body, "catchup_jobs_claimed_total"));
  auto file = dir / "metrics.txt";
  {
    std::ofstream out{file};
    out << metrics->body;
  }
  auto check = storage::run_process({"/bin/sh", "-c",
                                     "promtool check metrics < " + file},
                                    std::nullopt, std::chrono::seconds(60));
  BOOST_TEST(check.exit_code == 0, check.output);

  // The database goes away: not ready, with the reason; then back.
  auto stop = run({"db", "stop", "--database-data-dir", data_dir});
  BOOST_REQUIRE_MESSAGE(stop.exit_code == 0, stop.output);
  auto down = http.Get("/readyz");
  BOOST_REQUIRE(down);
  BOOST_TEST(down->status == 503);
  BOOST_TEST(has(down->body, "database unreachable"), down->body);
  auto start = run({"db", "start", "--database-data-dir", data_dir});
  BOOST_REQUIRE_MESSAGE(start.exit_code == 0, start.output);
  auto up = http.Get("/readyz");
  BOOST_REQUIRE(up);
  BOOST_TEST(up->status == 200, up->body);
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(60s) == 0, n->output());
  run({"db", "stop", "--database-data-dir", data_dir});
}

BOOST_AUTO_TEST_CASE(readyz_is_503_while_the_memory_breaker_is_open) {
  // A budget far below what an idle engine holds (a drill: such a budget
  // is refused unless the check is off): pressure is critical from the
  // first sample, so the node takes no work and says why.
  auto n = node("tight", {"--memory-budget", "64KiB",
                          "--memory-budget-check-enabled", "false"});
  auto port = http_port(*n);
  httplib::Client http{"127.0.0.1", port};
  auto ready = http.Get("/readyz");
  BOOST_REQUIRE(ready);
  BOOST_TEST(ready->status == 503);
  BOOST_TEST(has(ready->body, "memory circuit breaker open"), ready->body);
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(60s) == 0);
}

// The CLI and a node read one clock, moved by clock.offset_s: a generation
// enqueued with the clock ten years ahead is due then, so a node on today's
// clock leaves it, and a node moved as far runs it, at its own "now".
BOOST_AUTO_TEST_CASE(the_cli_and_a_node_share_a_moved_clock) {
  const std::string ten_years_s = std::to_string(3653LL * 86400);
  auto seeded = run({"seed", "--users", "1", "--contacts", "20", "--seed",
                     "3", "--now", "2026-03-02T12:00:00Z", "--database-url",
                     db.url()});
  BOOST_REQUIRE_MESSAGE(seeded.exit_code == 0, seeded.output);
  auto user = db.query("SELECT id FROM users")[0];
  auto queued = run({"enqueue", "generate", "--user", user,
                     "--clock-offset-s", ten_years_s, "--database-url",
                     db.url()});
  BOOST_REQUIRE_MESSAGE(queued.exit_code == 0, queued.output);
  // Due ten years from the database's today (a minute's slack either way).
  auto ahead_s = count("SELECT extract(epoch FROM run_at - now())::bigint "
                       "FROM jobs");
  BOOST_TEST(ahead_s > std::stoll(ten_years_s) - 60);
  BOOST_TEST(ahead_s < std::stoll(ten_years_s) + 60);
  {
    auto today = node("today");
    httplib::Client http{"127.0.0.1", http_port(*today)};
    auto status = http.Get("/status");
    BOOST_REQUIRE(status);
    auto queue = nlohmann::json::parse(status->body).at("queue");
    BOOST_TEST(queue.at("pending").get<std::int64_t>() == 1);
    BOOST_TEST(queue.at("due").get<std::int64_t>() == 0, status->body);
    today->signal(SIGTERM);
    BOOST_TEST(today->wait(60s) == 0);
  }
  BOOST_TEST(count("SELECT count(*) FROM jobs WHERE state = 'pending' "
                   "AND attempts = 0")
             == 1);
  auto moved = node("moved", {"--clock-offset-s", ten_years_s});
  BOOST_REQUIRE(wait_count("SELECT count(*) FROM jobs WHERE state = 'done'",
                           1, 60s));
  moved->signal(SIGTERM);
  BOOST_TEST(moved->wait(60s) == 0);
  // The job carried no "now": the generation ran at the node's.
  auto as_of_ahead_s = count("SELECT extract(epoch FROM as_of - now())"
                             "::bigint FROM generations");
  BOOST_TEST(as_of_ahead_s > std::stoll(ten_years_s) - 120);
  BOOST_TEST(as_of_ahead_s < std::stoll(ten_years_s) + 60);
}

BOOST_AUTO_TEST_SUITE_END()
