// SPDX-License-Identifier: Apache-2.0
// Birthdays and anniversaries through the public API: imported from a
// vCard, read back with the contact, and queried as upcoming dates in the
// user's time zone (a local day that is not UTC's, the turn of the year,
// Feb 29 in a common year, archived contacts left out), and re-imports
// that keep or replace them. "Now" is always given: nothing here depends
// on today's date.

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <catchup/catchup.hpp>

#include "api_fixture.hpp"

using namespace catchup;
using namespace catchup::api_test;

namespace {

/// 2026-12-30T12:00:00Z: already 2026-12-31 01:00 in Auckland (UTC+13).
constexpr std::int64_t dec_30_noon_utc = 1798632000;

std::string card(const std::string& uid, const std::string& name,
                 const std::string& date_lines) {
  return "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nFN:" + name
         + "\r\n" + date_lines + "END:VCARD\r\n";
}

const std::string people
  = card("ana", "Ana Lima", "BDAY:1985-12-31\r\n")
    + card("bo", "Bo", "BDAY:--01-02\r\n")
    + card("cy", "Cy", "BDAY;VALUE=date:19960229\r\n")
    + card("di", "Di", "ANNIVERSARY:2010-12-30T00:00:00Z\r\n")
    + card("ed", "Ed Archived", "BDAY:--0101\r\n")
    + card("fay", "Fay", "BDAY:--0101\r\n")
    + card("abe", "Abe", "X-ANNIVERSARY:20000101\r\n")
    + card("gus", "Gus", "BDAY:--1120\r\n");

struct fixture {
  test::test_database db;
  engine eng;
  std::string user_id;

  fixture() {
    auto opened = engine::open(config_for(db));
    BOOST_TEST_REQUIRE(opened.ok(),
                       (opened.ok() ? "" : opened.error().message));
    eng = std::move(*opened);
    user_profile p;
    p.email = "dates@example.org";
    p.timezone = "Pacific/Auckland";
    auto id = eng.put_user(p);
    BOOST_TEST_REQUIRE(id.ok(), (id.ok() ? "" : id.error().message));
    user_id = *id;
    import_text(people, 8);
    db.query("UPDATE contacts SET archived_at = now() "
             "WHERE name = 'Ed Archived' RETURNING id");
  }

  void import_text(const std::string& text, std::int64_t touched) {
    std::istringstream in{text};
    import_params params;
    params.user_id = user_id;
    params.format = import_format::vcard;
    auto imported = eng.import_stream(in, "people.vcf", params);
    BOOST_TEST_REQUIRE(imported.ok(),
                       (imported.ok() ? "" : imported.error().message));
    BOOST_TEST(imported->inserted + imported->updated == touched);
    BOOST_TEST(imported->skipped == 0u);
  }

  std::vector<upcoming_date> upcoming(int days, std::int64_t now) {
    auto got = eng.upcoming_dates(user_id, days, now);
    BOOST_TEST_REQUIRE(got.ok(), (got.ok() ? "" : got.error().message));
    return *got;
  }

  std::string id_of(const std::string& name) {
    auto ids = db.query("SELECT id::text FROM contacts WHERE name = '" + name
                        + "'");
    BOOST_TEST_REQUIRE(ids.size() == 1u);
    return ids.front();
  }
};

std::string names(const std::vector<upcoming_date>& items) {
  std::string out;
  for (auto& d : items)
    out += (out.empty() ? "" : ",") + d.contact_name + "@"
           + std::to_string(d.days_until);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(api_dates, fixture)

BOOST_AUTO_TEST_CASE(upcoming_dates_wrap_the_year_in_the_users_zone) {
  auto items = upcoming(14, dec_30_noon_utc);
  // Ana's birthday is today in Auckland (Dec 31 there); Di's Dec 30 has
  // passed there. Abe and Fay tie on Jan 1 and go by name; Ed is archived.
  BOOST_TEST(names(items) == "Ana Lima@0,Abe@1,Fay@1,Bo@2");
  BOOST_REQUIRE_EQUAL(items.size(), 4u);
  BOOST_TEST(items[0].contact_id == id_of("Ana Lima"));
  BOOST_TEST(items[0].kind == "birthday");
  BOOST_TEST(items[0].date == "2026-12-31");
  BOOST_TEST((items[0].years == 41));
  BOOST_TEST(items[1].kind == "anniversary");
  BOOST_TEST(items[1].date == "2027-01-01");
  BOOST_TEST((items[1].years == 27));
  BOOST_TEST(!items[2].years.has_value());
  BOOST_TEST(items[3].date == "2027-01-02");

  // One day: today only.
  BOOST_TEST(names(upcoming(1, dec_30_noon_utc)) == "Ana Lima@0");
}

BOOST_AUTO_TEST_CASE(feb_29_falls_on_feb_28_in_a_common_year) {
  auto items = upcoming(60, dec_30_noon_utc);
  BOOST_REQUIRE(!items.empty());
  const auto& cy = items.back();
  BOOST_TEST(cy.contact_name == "Cy");
  BOOST_TEST(cy.date == "2027-02-28");
  BOOST_TEST(cy.days_until == 59);
  BOOST_TEST((cy.years == 31));
  // 59 days is one too few to reach it.
  BOOST_TEST(upcoming(59, dec_30_noon_utc).back().contact_name == "Bo");
}

BOOST_AUTO_TEST_CASE(the_local_day_follows_the_users_zone) {
  user_profile p;
  p.id = user_id;
  p.timezone = "UTC";
  BOOST_TEST_REQUIRE(eng.put_user(p).ok());
  // In UTC it is still Dec 30: Di's anniversary is today, Ana's tomorrow.
  BOOST_TEST(names(upcoming(3, dec_30_noon_utc)) == "Di@0,Ana Lima@1,Abe@2,Fay@2");
}

BOOST_AUTO_TEST_CASE(the_engines_clock_is_now_by_default) {
  // The test clock stands at 2026-11-18T11:06:40Z, Nov 19 in Auckland.
  auto got = eng.upcoming_dates(user_id);
  BOOST_TEST_REQUIRE(got.ok(), (got.ok() ? "" : got.error().message));
  BOOST_TEST(names(*got) == "Gus@1");
  // A whole year holds every date of every contact not archived.
  BOOST_TEST(upcoming(366, dec_30_noon_utc).size() == 7u);
}

BOOST_AUTO_TEST_CASE(bad_arguments_name_the_field) {
  for (int days : {0, -1, 367}) {
    auto got = eng.upcoming_dates(user_id, days, dec_30_noon_utc);
    BOOST_TEST_REQUIRE(!got.ok());
    BOOST_TEST(got.error().code == error_code::invalid_argument);
    BOOST_TEST(got.error().message.find("horizon_days") != std::string::npos,
               got.error().message);
  }
  auto got = eng.upcoming_dates("not-a-uuid", 14, dec_30_noon_utc);
  BOOST_TEST_REQUIRE(!got.ok());
  BOOST_TEST(got.error().code == error_code::invalid_argument);
  BOOST_TEST(got.error().message.find("user id") != std::string::npos);
  got = eng.upcoming_dates("00000000-0000-4000-8000-000000000000", 14,
                           dec_30_noon_utc);
  BOOST_TEST_REQUIRE(!got.ok());
  BOOST_TEST(got.error().code == error_code::not_found);
}

BOOST_AUTO_TEST_CASE(the_contact_carries_its_dates) {
  auto ana = eng.contact(user_id, id_of("Ana Lima"));
  BOOST_TEST_REQUIRE(ana.ok(), (ana.ok() ? "" : ana.error().message));
  BOOST_REQUIRE_EQUAL(ana->dates.size(), 1u);
  BOOST_TEST(ana->dates[0].kind == "birthday");
  BOOST_TEST(ana->dates[0].month == 12);
  BOOST_TEST(ana->dates[0].day == 31);
  BOOST_TEST((ana->dates[0].year == 1985));
  auto bo = eng.contact(user_id, id_of("Bo"));
  BOOST_TEST_REQUIRE(bo.ok());
  BOOST_REQUIRE_EQUAL(bo->dates.size(), 1u);
  BOOST_TEST(!bo->dates[0].year.has_value());
}

BOOST_AUTO_TEST_CASE(a_reimport_replaces_given_dates_and_keeps_the_others) {
  // Ana without a birthday keeps hers; Bo's moves; Cy gains an
  // anniversary and keeps the birthday; a malformed date changes nothing.
  import_text(card("ana", "Ana Lima", "")
                + card("bo", "Bo", "BDAY:1990-01-03\r\n")
                + card("cy", "Cy", "ANNIVERSARY:--0101\r\n")
                + card("fay", "Fay", "BDAY:1990-02-30\r\n"),
              4);
  auto items = upcoming(14, dec_30_noon_utc);
  BOOST_TEST(names(items) == "Ana Lima@0,Abe@1,Cy@1,Fay@1,Bo@3");
  BOOST_TEST(items.back().date == "2027-01-03");
  BOOST_TEST((items.back().years == 37));
  auto cy = eng.contact(user_id, id_of("Cy"));
  BOOST_TEST_REQUIRE(cy.ok());
  BOOST_REQUIRE_EQUAL(cy->dates.size(), 2u);
  BOOST_TEST(cy->dates[0].kind == "birthday");
  BOOST_TEST(cy->dates[1].kind == "anniversary");
}

BOOST_AUTO_TEST_CASE(a_malformed_date_is_a_warning_not_a_skipped_contact) {
  std::istringstream in{card("hal", "Hal", "BDAY:1985-13-01\r\n")};
  import_params params;
  params.user_id = user_id;
  params.format = import_format::vcard;
  params.strict = true;
  auto imported = eng.import_stream(in, "hal.vcf", params);
  BOOST_TEST_REQUIRE(imported.ok(),
                     (imported.ok() ? "" : imported.error().message));
  BOOST_TEST(imported->inserted == 1);
  BOOST_TEST(imported->skipped == 0u);
  BOOST_REQUIRE_EQUAL(imported->warnings.size(), 1u);
  BOOST_TEST(imported->warnings[0].where == "hal.vcf:5");
  BOOST_TEST(imported->warnings[0].reason.rfind("BDAY left out: ", 0) == 0u,
             imported->warnings[0].reason);
}

BOOST_AUTO_TEST_SUITE_END()
