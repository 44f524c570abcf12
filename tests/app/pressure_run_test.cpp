// SPDX-License-Identifier: Apache-2.0
// `catchup generate --all` over 1,000 users with the real memory probe and
// a deliberately small heap budget: every user completes, the run passes
// through degraded levels (smaller batches and caps, results marked
// partial), and the sampled heap never exceeds the budget.
//
// The budget is derived from a first, unconstrained run of the same binary
// (jemalloc in release builds, the sanitizer's allocator under ASan): its
// peak heap is put at 78% of the budget, between "high" (70%) and
// "critical" (80%), so the test means the same under either allocator.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "storage/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

storage::process_result run(std::vector<std::string> args) {
  auto* binary = std::getenv("CUTEST_BINARY");
  BOOST_REQUIRE_MESSAGE(binary != nullptr, "CUTEST_BINARY is not set");
  args.insert(args.begin(), binary);
  return storage::run_process(args, std::nullopt, std::chrono::seconds(300));
}

struct sample_row {
  std::int64_t allocated_bytes = 0;
  std::int64_t budget_bytes = 0;
  std::string level;
};

std::vector<sample_row> read_timeline(const std::string& path) {
  std::ifstream in{path};
  BOOST_REQUIRE_MESSAGE(in, "no timeline at " << path);
  std::string line;
  std::getline(in, line);
  BOOST_TEST(line == "elapsed_ms,allocated_bytes,resident_bytes,budget_bytes,"
                     "used_percent,level,level_name");
  std::vector<sample_row> out;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream fields{line};
    std::string cell;
    while (std::getline(fields, cell, ','))
      cells.push_back(cell);
    BOOST_REQUIRE_EQUAL(cells.size(), 7u);
    out.push_back({std::stoll(cells[1]), std::stoll(cells[3]), cells[6]});
  }
  return out;
}

nlohmann::json generate_all(const test::temp_dir& dir,
                            const std::string& budget,
                            const std::string& timeline) {
  auto r = run({"generate", "--all", "--json", "--summary-only", "--now",
                "2026-11-22T10:00:00Z", "--log-level", "error",
                "--memory-budget", budget, "--memory-sample-interval-ms", "10",
                "--memory-timeline", (dir / timeline)});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  auto start = r.output.find("{\"results\"");
  BOOST_REQUIRE(start != std::string::npos);
  return nlohmann::json::parse(r.output.substr(start));
}

} // namespace

BOOST_AUTO_TEST_SUITE(app_pressure_run)

BOOST_AUTO_TEST_CASE(a_thousand_users_under_a_small_budget_all_complete) {
  test::test_database db;
  setenv("DATABASE_URL", db.url().c_str(), 1);
  test::temp_dir dir;
  auto seeded = run({"seed", "--users", "1000", "--contacts", "40", "--seed",
                     "11", "--now", "2026-11-22T10:00:00Z", "--log-level",
                     "error"});
  BOOST_REQUIRE_MESSAGE(seeded.exit_code == 0, seeded.output);

  auto free_run = generate_all(dir, "64GiB", "free.csv");
  BOOST_TEST(free_run["summary"]["users"] == 1000);
  BOOST_TEST(free_run["summary"]["partial"] == 0);
  auto free_samples = read_timeline((dir / "free.csv"));
  BOOST_REQUIRE(free_samples.size() > 10u);
  std::int64_t idle = free_samples.front().allocated_bytes;
  std::int64_t peak = 0;
  for (auto& s : free_samples)
    peak = std::max(peak, s.allocated_bytes);
  auto budget = static_cast<std::int64_t>(static_cast<double>(peak) / 0.78);
  BOOST_TEST_MESSAGE("heap: idle " << idle << " B, peak " << peak
                                   << " B; budget " << budget << " B");
  // Otherwise the budget could not be small without starting degraded.
  BOOST_REQUIRE_MESSAGE(idle * 100 < budget * 55,
                        "idle heap " << idle << " B is too close to the "
                                     << "peak " << peak << " B");

  auto tight = generate_all(dir, std::to_string(budget), "tight.csv");
  auto& summary = tight["summary"];
  BOOST_TEST(summary["users"] == 1000);
  BOOST_TEST(summary["failed"] == 0);
  // Every user got suggestions, some of them fewer than a free run gives:
  // with 40 due contacts each, any degraded level (cap 25 or 10) cuts.
  BOOST_TEST(summary["suggestions"].get<std::int64_t>() >= 1000 * 10);
  BOOST_TEST(summary["partial"].get<std::int64_t>() > 0);
  BOOST_TEST(tight["metrics"]["catchup_generations_total"] == 1000.0);
  BOOST_TEST(tight["metrics"]["catchup_memory_pressure_changes_total"]
               .get<double>()
             >= 1.0);

  auto samples = read_timeline((dir / "tight.csv"));
  std::set<std::string> levels;
  std::int64_t tight_peak = 0;
  for (auto& s : samples) {
    levels.insert(s.level);
    tight_peak = std::max(tight_peak, s.allocated_bytes);
    BOOST_TEST(s.budget_bytes == budget);
  }
  BOOST_TEST(levels.count("normal") == 1u);
  BOOST_TEST((levels.count("elevated") + levels.count("high")
              + levels.count("critical"))
             >= 1u);
  // The stated margin: the sampled heap stays within the budget.
  BOOST_TEST(tight_peak <= budget, "peak " << tight_peak << " B of budget "
                                           << budget << " B");
  unsetenv("DATABASE_URL");
}

BOOST_AUTO_TEST_CASE(a_budget_below_the_resting_heap_is_refused_with_both_figures) {
  test::test_database db;
  setenv("DATABASE_URL", db.url().c_str(), 1);
  // Far below what any process of ours holds before it does anything.
  auto r = run({"generate", "--all", "--now", "2026-11-22T10:00:00Z",
                "--memory-budget", "64KiB"});
  unsetenv("DATABASE_URL");
  BOOST_TEST(r.exit_code == 2, r.output);
  BOOST_TEST(r.output.find("memory.budget_bytes 65536 B is too small")
               != std::string::npos,
             r.output);
  BOOST_TEST(r.output.find(" B of heap this process holds at rest")
               != std::string::npos,
             r.output);
}

BOOST_AUTO_TEST_CASE(a_run_the_breaker_never_lets_through_fails_within_its_limit) {
  test::test_database db;
  setenv("DATABASE_URL", db.url().c_str(), 1);
  auto seeded = run({"seed", "--users", "20", "--contacts", "5", "--seed",
                     "12", "--now", "2026-11-22T10:00:00Z", "--log-level",
                     "error"});
  BOOST_REQUIRE_MESSAGE(seeded.exit_code == 0, seeded.output);
  // A drill: the check is off, so the breaker is open from the start and
  // never falls; the held users fail after the limit instead of waiting.
  auto r = run({"generate", "--all", "--json", "--now",
                "2026-11-22T10:00:00Z", "--log-level", "error",
                "--memory-budget", "64KiB", "--memory-budget-check-enabled",
                "false", "--generation-breaker-wait-max-ms", "1500"});
  unsetenv("DATABASE_URL");
  BOOST_TEST(r.exit_code == 1, r.output);
  auto start = r.output.find("{\"results\"");
  BOOST_REQUIRE_MESSAGE(start != std::string::npos, r.output);
  auto out = nlohmann::json::parse(r.output.substr(start));
  BOOST_TEST(out["summary"]["failed"] == 20);
  for (auto& user : out["results"]) {
    BOOST_REQUIRE(!user["warnings"].empty());
    auto why = user["warnings"][0].get<std::string>();
    BOOST_TEST(why.find("failed (memory_critical): memory pressure critical")
                 != std::string::npos,
               why);
    BOOST_TEST(why.find("past its 1500 ms limit") != std::string::npos, why);
  }
}

BOOST_AUTO_TEST_SUITE_END()
