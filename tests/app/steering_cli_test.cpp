// SPDX-License-Identifier: Apache-2.0
// Keeping in touch through the `catchup` binary, as a person does it:
// contacts named by name or e-mail get a cadence, an importance, a pause
// or an archive; groups pass a cadence to their members; settings steer
// the slots; and every bad value is refused by name with nothing written.

#include <boost/test/unit_test.hpp>

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
  return storage::run_process(args, std::nullopt, std::chrono::seconds(120));
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

nlohmann::json json_of(const storage::process_result& r) {
  auto start = r.output.find_first_of("{[");
  BOOST_REQUIRE_MESSAGE(start != std::string::npos, r.output);
  return nlohmann::json::parse(r.output.substr(start));
}

// 2026-11-22T10:00:00Z and days after it, as the CLI reads instants.
constexpr std::int64_t t0 = 1795341600;
std::string day(int n) { return std::to_string(t0 + n * 86400); }

struct fixture {
  test::test_database db;
  test::temp_dir dir;
  std::string user;
  fixture() {
    unsetenv("CATCHUP_CONFIG");
    setenv("DATABASE_URL", db.url().c_str(), 1);
    auto migrated = run({"migrate"});
    BOOST_REQUIRE_MESSAGE(migrated.exit_code == 0, migrated.output);
    user = db.query("INSERT INTO users (email) VALUES ('kit@example.org') "
                    "RETURNING id")[0];
    auto file = dir / "friends.vcf";
    std::ofstream{file}
      << "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ana\r\nFN:Ana Lima\r\n"
         "EMAIL:ana@example.org\r\nEND:VCARD\r\n"
         "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bo1\r\nFN:Bo\r\nEND:VCARD\r\n"
         "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bo2\r\nFN:Bo\r\n"
         "EMAIL:bo@example.org\r\nEND:VCARD\r\n"
         "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cy\r\nFN:Cy\r\nEND:VCARD\r\n";
    auto r = run({"import", "contacts", "--user", user, file, "--now", day(0)});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }
  ~fixture() { unsetenv("DATABASE_URL"); }

  std::vector<std::string> suggested_names(int at) {
    auto r = run({"generate", "--user", user, "--json", "--now", day(at)});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    std::vector<std::string> names;
    auto doc = json_of(r);
    for (auto& item : doc["items"])
      names.push_back(item["contact_name"]);
    return names;
  }
};

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(app_steering_cli, fixture)

BOOST_AUTO_TEST_CASE(new_contacts_are_due_one_cadence_after_they_were_added) {
  // Added at day 0 with the default monthly cadence: nobody is due on day
  // 29, everyone on day 30 (not "since 1970").
  BOOST_TEST(suggested_names(29).empty());
  auto names = suggested_names(30);
  BOOST_TEST(names.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_cadence_an_importance_a_pause_and_an_archive_steer) {
  auto r = run({"contacts", "set", "--user", user, "Ana Lima", "--cadence",
                "7", "--importance", "inner", "--json"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  auto ana = json_of(r);
  BOOST_TEST(ana["effective_cadence_days"] == 7);
  BOOST_TEST(ana["cadence_source"] == "contact");
  BOOST_TEST(ana["importance"] == "inner");
  auto names = suggested_names(8);
  BOOST_REQUIRE_EQUAL(names.size(), 1u);
  BOOST_TEST(names[0] == "Ana Lima");
  // Paused until day 20: left out on day 9, back on day 21 as due as ever.
  r = run({"contacts", "set", "--user", user, "ana@example.org",
           "--pause-until", day(20), "--now", day(9)});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  BOOST_TEST(!has(suggested_names(9), "Ana Lima"));
  BOOST_TEST(has(suggested_names(21), "Ana Lima"));
  r = run({"contacts", "set", "--user", user, "Ana Lima", "--archive"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  BOOST_TEST(!has(suggested_names(40), "Ana Lima"));
  r = run({"contacts", "set", "--user", user, "Ana Lima", "--unarchive",
           "--json"});
  BOOST_TEST(json_of(r)["archived"] == false);
  // The importance weighs the days overdue: at day 40 Ana (inner, 33 days
  // overdue on a weekly cadence) outranks everyone.
  BOOST_TEST(suggested_names(40).front() == "Ana Lima");
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused_by_name_and_nothing_is_written) {
  auto refused = [&](std::vector<std::string> args, const std::string& words) {
    auto r = run(args);
    BOOST_TEST(r.exit_code != 0, "accepted: " << words);
    BOOST_TEST(contains(r.output, words), r.output << " lacks " << words);
  };
  refused({"contacts", "set", "--user", user, "Ana Lima", "--cadence", "0"},
          "cadence '0'");
  refused({"contacts", "set", "--user", user, "Ana Lima", "--cadence",
           "3651"}, "cadence '3651'");
  refused({"contacts", "set", "--user", user, "Ana Lima", "--importance",
           "vip"}, "importance 'vip'");
  refused({"contacts", "set", "--user", user, "Ana Lima", "--pause-until",
           day(1), "--now", day(2)}, "paused_until");
  refused({"contacts", "set", "--user", user, "Bo", "--cadence", "weekly"},
          "'Bo' names 2 contacts");
  refused({"contacts", "set", "--user", user, "Nobody", "--cadence", "7"},
          "no contact named 'Nobody'");
  refused({"contacts", "show", "--user", "not-a-uuid", "Ana Lima"},
          "user id 'not-a-uuid' is not a UUID");
  refused({"contacts", "show", "--user",
           "00000000-0000-4000-8000-000000000000", "Ana Lima"},
          "not found");
  refused({"contacts", "set", "--user", user, "Ana Lima"}, "nothing to set");
  refused({"settings", "set", "--user", user, "--slot-minutes", "5"},
          "slot_minutes 5");
  refused({"groups", "create", "--user", user, "Family", "--cadence", "0"},
          "cadence '0'");
  BOOST_TEST(db.query("SELECT count(*) FROM contacts WHERE cadence_days IS "
                      "NOT NULL OR frequency_preference IS NOT NULL OR "
                      "dunbar_circle IS NOT NULL OR paused_until IS NOT "
                      "NULL")[0] == "0");
  BOOST_TEST(db.query("SELECT count(*) FROM groups")[0] == "0");
}

BOOST_AUTO_TEST_CASE(groups_pass_their_cadence_to_members_without_one) {
  auto r = run({"groups", "create", "--user", user, "Family", "--cadence",
                "weekly", "--json"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  BOOST_TEST(json_of(r)["cadence_days"] == 7);
  r = run({"groups", "add", "--user", user, "Family", "Cy", "bo@example.org"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  BOOST_TEST(contains(r.output, "added 2 contact(s)"));
  r = run({"contacts", "show", "--user", user, "Cy", "--json"});
  BOOST_TEST(json_of(r)["effective_cadence_days"] == 7);
  BOOST_TEST(json_of(r)["cadence_source"] == "group");
  auto names = suggested_names(8);
  BOOST_TEST(names.size() == 2u);
  BOOST_TEST(has(names, "Cy"));
  r = run({"groups", "list", "--user", user, "--json"});
  BOOST_TEST(json_of(r)[0]["members"] == 2);
  r = run({"groups", "delete", "--user", user, "Family"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  BOOST_TEST(suggested_names(8).empty());
}

BOOST_AUTO_TEST_CASE(settings_show_the_defaults_and_take_changes) {
  auto r = run({"settings", "show", "--user", user, "--json"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  auto s = json_of(r);
  BOOST_TEST(s["default_cadence_days"] == 30);
  BOOST_TEST(s["slot_minutes"] == 60);
  BOOST_TEST(s["slots_per_day"] == 2);
  BOOST_TEST(s["slot_horizon_days"] == 14);
  r = run({"settings", "set", "--user", user, "--default-cadence", "10",
           "--slot-minutes", "30", "--suggestions-per-run", "1", "--json"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  s = json_of(r);
  BOOST_TEST(s["default_cadence_days"] == 10);
  BOOST_TEST(s["slot_minutes"] == 30);
  // Due after 10 days now, one suggestion per run, in a 30-minute slot.
  auto g = run({"generate", "--user", user, "--json", "--now", day(10)});
  auto items = json_of(g)["items"];
  BOOST_REQUIRE_EQUAL(items.size(), 1u);
}

BOOST_AUTO_TEST_CASE(seeded_suggestions_are_varied_not_one_tie) {
  auto r = run({"seed", "--users", "1", "--contacts", "2000", "--seed", "7",
                "--now", day(0)});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  std::istringstream out{r.output};
  std::string seeded, line;
  while (std::getline(out, line))
    if (!line.empty())
      seeded = line;
  auto g = run({"generate", "--user", seeded, "--json", "--now", day(0)});
  BOOST_REQUIRE_MESSAGE(g.exit_code == 0, g.output);
  auto items = json_of(g)["items"];
  BOOST_REQUIRE_GE(items.size(), 10u);
  std::set<double> priorities;
  std::set<std::string> reasons;
  for (std::size_t i = 0; i < 10; ++i) {
    priorities.insert(items[i]["priority"].get<double>());
    reasons.insert(items[i]["reason"].get<std::string>());
  }
  BOOST_TEST(priorities.size() >= 5u);
  BOOST_TEST(reasons.size() >= 5u);
}

BOOST_AUTO_TEST_SUITE_END()
