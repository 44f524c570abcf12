// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the tests of `catchup serve` nodes share: a migrated test database,
// nodes started as child processes, and waits on what the nodes write to
// the database (the tests synchronise on it, never on sleeps alone).

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "storage/migrations.hpp"
#include "storage/process.hpp"
#include "tests/support/catchup_binary.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/test_database.hpp"

namespace catchup::test {

using namespace std::chrono_literals;

inline std::string binary() {
  return catchup_binary();
}

inline storage::process_result run(std::vector<std::string> args) {
  return run_catchup(std::move(args));
}

inline bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct serve_fixture {
  /// A run_at in SQL that every node's clock has passed (jobs enqueued in
  /// SQL would otherwise be due at the database's now, which a node whose
  /// clock is set back does not reach).
  static inline const std::string due_long_ago
    = "timestamptz '2000-01-01 00:00:00+00'";

  test::test_database db;

  serve_fixture() {
    storage::migrate(db.url());
  }

  std::int64_t count(const std::string& sql) {
    return std::stoll(db.query(sql).at(0));
  }

  /// Waits (bounded) until `sql` counts at least `n`; the database is what
  /// the nodes report through, so this is the test's synchronisation.
  bool wait_count(const std::string& sql, std::int64_t n,
                  std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (count(sql) >= n)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::unique_ptr<test::child_process>
  node(const std::string& owner, std::vector<std::string> extra = {},
       const std::string& lease_ms = "1500") {
    std::vector<std::string> args{binary(),
                                  "serve",
                                  "--database-url",
                                  db.url(),
                                  "--node-owner",
                                  owner,
                                  "--node-lease-ms",
                                  lease_ms,
                                  "--node-poll-interval-ms",
                                  "200",
                                  "--schedule-generate-interval-ms",
                                  "0",
                                  "--http-port",
                                  "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<test::child_process>(args);
    auto ready = p->wait_for_line(
      [](const std::string& l) { return has(l, "catchup serve: node"); }, 60s);
    BOOST_REQUIRE_MESSAGE(!ready.empty(), "node did not start:\n"
                                            << p->output());
    return p;
  }

  /// Seeds `users` users (20 contacts each) and enqueues a generation job
  /// for each, due since long ago: due on any node's clock, whatever date
  /// the machine says.
  void seed_and_enqueue(int users) {
    seed(users);
    enqueue_for_all_users();
  }

  void seed(int users) {
    auto r = run({"seed", "--users", std::to_string(users), "--contacts",
                  "20", "--seed", "7", "--now", "2026-03-02T12:00:00Z",
                  "--database-url", db.url()});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }

  void enqueue_for_all_users() {
    db.query("SELECT (catchup_enqueue('generate', id, "
             "'{\"now\": 1772452800}'::jsonb, " + due_long_ago + ")).id "
             "FROM users");
  }
};

/// The port of a node's HTTP endpoint (started with --http-port 0), from
/// its log line.
inline int http_port(child_process& p) {
  auto line = p.wait_for_line(
    [](const std::string& l) { return has(l, "/status on "); }, 30s);
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(line, m, std::regex{":(\\d+)$"}),
                        "no port in: " << line);
  return std::stoi(m[1]);
}

} // namespace catchup::test
