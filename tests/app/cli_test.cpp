// SPDX-License-Identifier: Apache-2.0
// The `catchup` binary as a user runs it: exit codes (0 ok, 1 runtime, 2
// usage), one-line errors that say what and why, --help everywhere, and the
// configuration and database commands against the test cluster.

#include <boost/test/unit_test.hpp>

#include <cstdlib>
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
  return storage::run_process(args, std::nullopt, std::chrono::seconds(120));
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    out.push_back(line);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The environment is inherited by the binary; keep tests independent of it.
struct fixture {
  fixture() {
    unsetenv("DATABASE_URL");
    unsetenv("CATCHUP_CONFIG");
    unsetenv("MAX_HEAP_PERCENT");
  }
  ~fixture() {
    unsetenv("DATABASE_URL");
    unsetenv("MAX_HEAP_PERCENT");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(app_cli, fixture)

BOOST_AUTO_TEST_CASE(help_works_on_every_command) {
  for (auto args : std::vector<std::vector<std::string>>{
         {"--help"}, {"db", "--help"}, {"db", "start", "--help"},
         {"db", "status", "--help"}, {"db", "stop", "--help"},
         {"db", "url", "--help"}, {"migrate", "--help"}, {"demo", "--help"},
         {"config", "--help"}, {"config", "show", "--help"},
         {"contact", "--help"}, {"import", "--help"},
         {"import", "contacts", "--help"}, {"import", "calendar", "--help"},
         {"sync", "google", "--help"}, {"contacts", "--help"},
         {"contacts", "set", "--help"}, {"contacts", "show", "--help"},
         {"groups", "--help"}, {"groups", "create", "--help"},
         {"groups", "add", "--help"}, {"settings", "--help"},
         {"settings", "set", "--help"}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == 0, "catchup " << args[0] << " --help");
    BOOST_TEST(contains(r.output, "Usage:"));
  }
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_with_one_line) {
  auto r = run({"frobnicate"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(lines(r.output).front().rfind("catchup: error: ", 0) == 0u);
  r = run({});
  BOOST_TEST(r.exit_code == 2);
  r = run({"db", "start", "--no-such-flag"});
  BOOST_TEST(r.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(invalid_configuration_exits_2_naming_key_and_source) {
  setenv("MAX_HEAP_PERCENT", "400", 1);
  auto r = run({"config", "show"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_REQUIRE_EQUAL(lines(r.output).size(), 1u);
  BOOST_TEST(r.output
             == "catchup: error: invalid configuration: "
                "memory.max_heap_percent = \"400\" (environment "
                "MAX_HEAP_PERCENT): must be an integer from 10 to 100\n");
  test::temp_dir dir;
  r = run({"config", "show", "--config", dir / "missing.conf"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.output, "cannot read config file"));
}

BOOST_AUTO_TEST_CASE(config_show_prints_each_value_with_its_source) {
  setenv("MAX_HEAP_PERCENT", "70", 1);
  auto r = run({"config", "show", "--json", "--generation-batch-rows-max",
                "25"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  auto entries = nlohmann::json::parse(r.output);
  std::map<std::string, std::pair<std::string, std::string>> by_key;
  for (auto& e : entries)
    by_key[e["key"]] = {e["value"], e["source"]};
  BOOST_TEST(by_key["memory.max_heap_percent"].first == "70");
  BOOST_TEST(by_key["memory.max_heap_percent"].second
             == "environment MAX_HEAP_PERCENT");
  BOOST_TEST(by_key["generation.batch_rows_max"].second
             == "flag --generation-batch-rows-max");
  BOOST_TEST(by_key["database.data_dir"].second == "built-in default");
}

BOOST_AUTO_TEST_CASE(missing_postgresql_binaries_exit_1_with_the_reason) {
  test::temp_dir dir;
  auto r = run({"migrate", "--database-data-dir", dir / "pg",
                "--database-pg-bin-dir", dir / "nothing-here"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_REQUIRE_EQUAL(lines(r.output).size(), 1u);
  BOOST_TEST(contains(r.output, "catchup: error: PostgreSQL server binaries "
                                "not found"));
}

BOOST_AUTO_TEST_CASE(migrate_applies_once_then_reports_up_to_date) {
  test::test_database db;
  setenv("DATABASE_URL", db.url().c_str(), 1);
  auto r = run({"migrate", "--log-format", "json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "migrated schema from version 0 to"));
  // Every log record on stderr is one JSON object.
  bool saw_log = false;
  for (auto& line : lines(r.output))
    if (!line.empty() && line[0] == '{') {
      auto record = nlohmann::json::parse(line);
      BOOST_TEST(record.contains("msg"));
      saw_log = true;
    }
  BOOST_TEST(saw_log);
  r = run({"migrate"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "schema is up to date at version"));
}

BOOST_AUTO_TEST_CASE(db_commands_manage_a_private_cluster) {
  test::temp_dir dir;
  auto data = dir / "pg";
  auto r = run({"db", "status", "--database-data-dir", data});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "state:    absent"));
  r = run({"db", "start", "--database-data-dir", data});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "started"));
  r = run({"db", "url", "--database-data-dir", data});
  BOOST_TEST(r.exit_code == 0);
  auto url = lines(r.output).front();
  BOOST_TEST(url.rfind("postgresql:///catchup?host=", 0) == 0u);
  // A second command shares the running server and leaves it running.
  setenv("DATABASE_URL", url.c_str(), 1);
  r = run({"migrate"});
  BOOST_TEST(r.exit_code == 0);
  unsetenv("DATABASE_URL");
  r = run({"demo", "--database-data-dir", data, "--users", "2",
           "--contacts", "300", "--now", "2026-11-22T10:00:00Z"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "summary: 2 users, 600 contacts"));
  r = run({"db", "status", "--database-data-dir", data});
  BOOST_TEST(contains(r.output, "state:    running"));
  r = run({"db", "stop", "--database-data-dir", data});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "stopped"));
  r = run({"db", "status", "--database-data-dir", data});
  BOOST_TEST(contains(r.output, "state:    stopped"));
}

BOOST_AUTO_TEST_CASE(generate_is_reproducible_for_the_same_now) {
  test::test_database db;
  setenv("DATABASE_URL", db.url().c_str(), 1);
  auto r = run({"seed", "--users", "1", "--contacts", "500", "--seed", "7",
                "--now", "2026-11-22T10:00:00Z"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  auto user = lines(r.output).back();
  auto gen = [&] {
    auto g = run({"generate", "--user", user, "--json", "--now",
                  "2026-11-22T10:00:00Z"});
    BOOST_REQUIRE_EQUAL(g.exit_code, 0);
    auto start = g.output.find('{');
    auto doc = nlohmann::json::parse(g.output.substr(start));
    // Each generation gives its suggestions new ids; the rest repeats.
    for (auto& item : doc["items"])
      item.erase("id");
    return doc["items"];
  };
  auto first = gen();
  auto second = gen();
  BOOST_TEST(first.size() > 0u);
  BOOST_TEST(first == second);
  r = run({"generate", "--user", "00000000-0000-4000-8000-000000000000",
           "--now", "2026-11-22T10:00:00Z"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.output, "user 00000000-0000-4000-8000-000000000000 "
                                "not found"));
  r = run({"generate", "--now", "yesterday-ish", "--all"});
  BOOST_TEST(r.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(contact_shows_one_contact_or_says_none) {
  test::test_database db;
  setenv("DATABASE_URL", db.url().c_str(), 1);
  auto r = run({"seed", "--users", "1", "--contacts", "3", "--seed", "5",
                "--now", "2026-11-22T10:00:00Z"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  auto user = lines(r.output).back();
  auto id = db.query("SELECT id FROM contacts WHERE user_id = '" + user
                     + "' ORDER BY name LIMIT 1")[0];
  auto name = db.query("SELECT name FROM contacts WHERE id = '" + id + "'")[0];
  r = run({"contact", "--user", user, "--id", id, "--json"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  auto doc = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  BOOST_TEST(doc["id"] == id);
  BOOST_TEST(doc["name"] == name);
  r = run({"contact", "--user", user, "--id",
           "00000000-0000-4000-8000-000000000000"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.output, "has no contact"));
}

BOOST_AUTO_TEST_SUITE_END()
