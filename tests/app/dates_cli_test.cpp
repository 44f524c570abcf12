// SPDX-License-Identifier: Apache-2.0
// `catchup birthdays` as a user runs it, after `catchup import contacts`:
// a fixed --now near the end of a year, in a zone whose local day is not
// UTC's, Feb 29 in a common year, an archived contact, a re-import that
// keeps and replaces dates, text and JSON output, and usage errors.

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/migrations.hpp"
#include "storage/process.hpp"
#include "tests/support/catchup_binary.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

// 2026-12-30T12:00:00Z: already Dec 31 in Auckland (UTC+13).
const std::string dec_30_noon_utc = "2026-12-30T12:00:00Z";

std::string card(const std::string& uid, const std::string& name,
                 const std::string& date_lines) {
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + name
         + "\r\n" + date_lines + "END:VCARD\r\n";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct fixture {
  test::test_database db;
  test::temp_dir dir;
  std::string user;

  fixture() {
    storage::migrate(db.url());
    user = db.query("INSERT INTO users (email, timezone) VALUES "
                    "('dates@example.org', 'Pacific/Auckland') RETURNING id")
             [0];
  }

  storage::process_result import(const std::string& text) {
    const std::string path = dir / "people.vcf";
    std::ofstream{path, std::ios::binary | std::ios::trunc} << text;
    return test::run_catchup({"import", "contacts", "--user", user, path,
                              "--database-url", db.url()});
  }

  storage::process_result birthdays(std::vector<std::string> extra) {
    std::vector<std::string> args{"birthdays", "--user", user,
                                  "--database-url", db.url()};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_catchup(args);
  }

  nlohmann::json json(std::vector<std::string> extra) {
    extra.push_back("--json");
    auto r = birthdays(extra);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
    return nlohmann::json::parse(r.output.substr(r.output.find('[')));
  }
};

std::string names(const nlohmann::json& items) {
  std::string out;
  for (auto& d : items)
    out += (out.empty() ? "" : ",") + d.at("name").get<std::string>() + "@"
           + std::to_string(d.at("days_until").get<int>());
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(app_dates, fixture)

BOOST_AUTO_TEST_CASE(birthdays_lists_what_comes_in_the_users_zone) {
  auto imported = import(card("ana", "Ana Lima", "BDAY:1985-12-31\r\n")
                         + card("bo", "Bo", "BDAY:--0102\r\n")
                         + card("cy", "Cy", "BDAY:19960229\r\n")
                         + card("di", "Di", "X-ANNIVERSARY:2010-12-30\r\n")
                         + card("ed", "Ed", "BDAY:--01-01\r\n")
                         + card("fay", "Fay", "BDAY:1990-02-30\r\n"));
  BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.output);
  // Fay's impossible date is a warning naming line and field; Fay is in.
  BOOST_TEST(contains(imported.output, "people.vcf:35: BDAY left out: "),
             imported.output);
  BOOST_TEST(contains(imported.output, "6 new"), imported.output);
  db.query("UPDATE contacts SET archived_at = now() WHERE name = 'Ed' "
           "RETURNING id");

  auto text = birthdays({"--now", dec_30_noon_utc, "--days", "3"});
  BOOST_TEST_REQUIRE(text.exit_code == 0, text.output);
  BOOST_TEST(text.output
               == "Dec 31  Ana Lima  birthday (turns 41)  today\n"
                  "Jan 2   Bo  birthday  in 2 days\n",
             text.output);

  // Across the year end, Feb 29 on Feb 28 of 2027.
  auto items = json({"--now", dec_30_noon_utc, "--days", "60"});
  BOOST_TEST(names(items) == "Ana Lima@0,Bo@2,Cy@59");
  BOOST_TEST(items[2].at("date") == "2027-02-28");
  BOOST_TEST(items[2].at("years") == 31);
  BOOST_TEST(items[2].at("kind") == "birthday");
  BOOST_TEST(items[1].at("years").is_null());

  // In UTC the same instant is still Dec 30: Di's anniversary is today.
  db.query("UPDATE users SET timezone = 'UTC' RETURNING id");
  items = json({"--now", dec_30_noon_utc, "--days", "2"});
  BOOST_TEST(names(items) == "Di@0,Ana Lima@1");
  BOOST_TEST(items[0].at("kind") == "anniversary");
  BOOST_TEST(items[0].at("years") == 16);
}

BOOST_AUTO_TEST_CASE(a_reimport_replaces_given_dates_and_keeps_the_rest) {
  BOOST_TEST_REQUIRE(import(card("ana", "Ana Lima", "BDAY:1985-12-31\r\n")
                            + card("bo", "Bo", "BDAY:--0102\r\n"))
                       .exit_code
                     == 0);
  auto again = import(card("ana", "Ana Lima", "")
                      + card("bo", "Bo", "BDAY:--0101\r\n"));
  BOOST_TEST_REQUIRE(again.exit_code == 0, again.output);
  auto items = json({"--now", dec_30_noon_utc});
  BOOST_TEST(names(items) == "Ana Lima@0,Bo@1");
  BOOST_TEST(items[0].at("date") == "2026-12-31");
}

BOOST_AUTO_TEST_CASE(nothing_coming_and_bad_arguments) {
  auto r = birthdays({"--now", dec_30_noon_utc});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "no birthdays or anniversaries in the next "
                                "14 days"),
             r.output);
  r = birthdays({"--days", "0"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.output, "catchup: error: "), r.output);
  BOOST_TEST(contains(r.output, "horizon_days"), r.output);
  r = test::run_catchup({"birthdays", "--help"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.output, "--days"), r.output);
  r = birthdays({"--now", "yesterday"});
  BOOST_TEST(r.exit_code == 2, r.output);
  r = test::run_catchup({"birthdays", "--database-url", db.url()});
  BOOST_TEST(r.exit_code == 2, r.output);
  r = test::run_catchup({"birthdays", "--user",
                         "00000000-0000-4000-8000-000000000000",
                         "--database-url", db.url()});
  BOOST_TEST(r.exit_code == 1, r.output);
  BOOST_TEST(contains(r.output, "no user"), r.output);
}

BOOST_AUTO_TEST_SUITE_END()
