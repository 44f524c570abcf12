// SPDX-License-Identifier: Apache-2.0
// `catchup users` and `catchup suggestions accept|dismiss|snooze` as a user
// runs them: a user added, listed, shown and deleted with their data; a
// malformed or unknown user reported alike by every per-user command with
// exit 1; answers to a generated suggestion. Every instant is given with
// --now, so no case depends on today's date.

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/process.hpp"
#include "tests/support/catchup_binary.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

const std::string now = "2026-11-22T10:00:00Z";
const std::string unknown_user = "00000000-0000-4000-8000-0000000000aa";

/// Runs `catchup ARGS... --log-level error`, so the output holds only what
/// the command prints.
storage::process_result run(std::vector<std::string> args) {
  args.push_back("--log-level");
  args.push_back("error");
  return test::run_catchup(std::move(args));
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

nlohmann::json json_of(const storage::process_result& r) {
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  return nlohmann::json::parse(r.output);
}

// Each case on a fresh database the binary reaches through DATABASE_URL.
struct fixture {
  test::test_database db;
  fixture() {
    unsetenv("CATCHUP_CONFIG");
    setenv("DATABASE_URL", db.url().c_str(), 1);
  }
  ~fixture() {
    unsetenv("DATABASE_URL");
  }

  /// A seeded user with `contacts` contacts and a generation at `now`.
  std::string user_with_suggestions(int contacts) {
    auto r = run({"seed", "--users", "1", "--contacts",
                  std::to_string(contacts), "--seed", "3", "--now", now});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
    auto user = lines(r.output).back();
    r = run({"generate", "--user", user, "--now", now});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
    return user;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(app_users_cli, fixture)

BOOST_AUTO_TEST_CASE(help_reads_on_the_new_commands) {
  for (auto args : std::vector<std::vector<std::string>>{
         {"users", "--help"}, {"users", "add", "--help"},
         {"users", "delete", "--help"}, {"suggestions", "--help"},
         {"suggestions", "snooze", "--help"}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == 0, args[0] << " " << args[1]);
    BOOST_TEST(contains(r.output, "Usage:"));
  }
  auto r = run({"suggestions", "--help"});
  for (auto sub : {"accept", "dismiss", "snooze"})
    BOOST_TEST(contains(r.output, sub));
}

BOOST_AUTO_TEST_CASE(users_add_list_show_delete_round_trip) {
  auto r = run({"users", "add", "--email", "ada@example.org", "--name", "Ada",
                "--timezone", "Europe/London"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST_REQUIRE(lines(r.output).size() == 1u);
  auto ada = lines(r.output).front();
  BOOST_TEST(ada.size() == 36u);
  auto bob = json_of(run({"users", "add", "--email", "bob@example.org",
                          "--json"}))["id"]
               .get<std::string>();
  BOOST_TEST(bob != ada);

  auto listed = json_of(run({"users", "list", "--json"}));
  BOOST_TEST_REQUIRE(listed.size() == 2u);
  BOOST_TEST(listed[0]["id"] == ada);
  BOOST_TEST(listed[0]["timezone"] == "Europe/London");
  BOOST_TEST(listed[1]["timezone"] == "UTC");
  r = run({"users", "list"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, ada + "  ada@example.org  Ada  "
                                      "Europe/London  active  0 contacts  "
                                      "0 pending"));
  BOOST_TEST(contains(r.output, "2 user(s)"));

  // A user with data: contacts and suggestions, then gone with them.
  auto seeded = user_with_suggestions(5);
  auto shown = json_of(run({"users", "show", "--user", seeded, "--json"}));
  BOOST_TEST(shown["contacts"] == 5);
  BOOST_TEST(shown["pending_suggestions"].get<int>() > 0);
  r = run({"users", "show", "--user", seeded});
  BOOST_TEST(contains(r.output, "contacts: 5"));

  r = run({"users", "delete", "--user", seeded});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.output, "without --yes"));
  BOOST_TEST(db.query("SELECT count(*) FROM users")[0] == "3");
  r = run({"users", "delete", "--user", seeded, "--yes"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST(contains(r.output, "deleted user " + seeded));
  for (auto table : {"contacts", "suggestions", "generations",
                     "calendar_events"})
    BOOST_TEST(db.query(std::string{"SELECT count(*) FROM "} + table
                        + " WHERE user_id = '" + seeded + "'")[0]
                 == "0",
               table);
  r = run({"users", "show", "--user", seeded});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output == "catchup: error: user " + seeded + " not found\n");
  BOOST_TEST(json_of(run({"users", "list", "--json"})).size() == 2u);
}

BOOST_AUTO_TEST_CASE(per_user_commands_report_bad_and_unknown_users_alike) {
  for (auto command : std::vector<std::vector<std::string>>{
         {"users", "show"}, {"users", "delete", "--yes"}, {"suggestions"},
         {"generate", "--now", now}}) {
    auto bad = command;
    bad.insert(bad.end(), {"--user", "not-a-uuid"});
    auto r = run(bad);
    BOOST_TEST(r.exit_code == 1, command[0] << ": " << r.output);
    BOOST_TEST(r.output
                 == "catchup: error: user id 'not-a-uuid' is not a UUID\n",
               command[0]);
    auto unknown = command;
    unknown.insert(unknown.end(), {"--user", unknown_user});
    r = run(unknown);
    BOOST_TEST(r.exit_code == 1, command[0] << ": " << r.output);
    BOOST_TEST(r.output
                 == "catchup: error: user " + unknown_user + " not found\n",
               command[0]);
  }
}

BOOST_AUTO_TEST_CASE(suggestions_are_listed_with_ids_and_answered) {
  auto user = user_with_suggestions(6);
  auto pending = json_of(run({"suggestions", "--user", user, "--json"}));
  BOOST_TEST_REQUIRE(pending.size() >= 3u);
  std::vector<std::string> ids;
  for (auto& s : pending)
    ids.push_back(s["id"]);
  auto r = run({"suggestions", "--user", user});
  BOOST_TEST_REQUIRE(r.exit_code == 0);
  for (auto& id : ids)
    BOOST_TEST(contains(r.output, "  " + id + "  "), id);

  r = run({"suggestions", "accept", "--user", user, "--id", ids[0], "--now",
           now});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
  BOOST_TEST(contains(r.output, "suggestion " + ids[0] + " is accepted"));
  auto dismissed = json_of(run({"suggestions", "dismiss", "--user", user,
                                "--id", ids[1], "--reason", "moved away",
                                "--now", now, "--json"}));
  BOOST_TEST(dismissed["id"] == ids[1]);
  BOOST_TEST(dismissed["status"] == "dismissed");
  auto snoozed = json_of(run({"suggestions", "snooze", "--user", user, "--id",
                              ids[2], "--until", "2026-11-25T18:00:00Z",
                              "--now", now, "--json"}));
  BOOST_TEST(snoozed["status"] == "snoozed");
  BOOST_TEST(snoozed["snoozed_until"] == "2026-11-25T18:00:00Z");

  // Answered ones are stored so, and the accepted and dismissed ones are no
  // longer pending (the listing reads the clock, against which the snooze
  // may have passed already).
  for (auto [id, status] : {std::pair{ids[0], "accepted"},
                            std::pair{ids[1], "dismissed"},
                            std::pair{ids[2], "snoozed"}})
    BOOST_TEST(db.query("SELECT status::text FROM suggestions WHERE id = '"
                        + id + "'")[0]
                 == status);
  auto left = json_of(run({"suggestions", "--user", user, "--json"}));
  for (auto& s : left) {
    BOOST_TEST(s["id"] != ids[0]);
    BOOST_TEST(s["id"] != ids[1]);
  }

  r = run({"suggestions", "accept", "--user", user, "--id", ids[0], "--now",
           now});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.output, "not pending"));
  r = run({"suggestions", "accept", "--user", user, "--id",
           "00000000-0000-4000-8000-0000000000cc", "--now", now});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.output, "has no suggestion"));
  r = run({"suggestions", "dismiss", "--user", unknown_user, "--id", ids[3],
           "--now", now});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output
             == "catchup: error: user " + unknown_user + " not found\n");
  // Another user's suggestion is not found for this one.
  auto other = json_of(run({"users", "add", "--email", "x@example.org",
                            "--json"}))["id"]
                 .get<std::string>();
  r = run({"suggestions", "accept", "--user", other, "--id", ids[3], "--now",
           now});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.output, "has no suggestion"));
  r = run({"suggestions", "snooze", "--user", user, "--id", ids[3], "--until",
           "next week", "--now", now});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.output, "--until"));
  r = run({"suggestions", "snooze", "--user", user, "--id", ids[3]});
  BOOST_TEST(r.exit_code == 2);
}

BOOST_AUTO_TEST_SUITE_END()
