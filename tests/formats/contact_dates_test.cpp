// SPDX-License-Identifier: Apache-2.0
// Birthdays and anniversaries as the readers take them: every vCard form
// (3.0, 4.0, year-less, with a time, the X- anniversaries), the CSV
// columns of Google, Outlook and Thunderbird, the real exports that carry
// them, and malformed dates, which are warnings naming line and field
// while the rest of the card is read.

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/contact_date.hpp"
#include "formats/contact_import.hpp"
#include "formats/contacts_csv.hpp"
#include "formats/vcard.hpp"
#include "tests/support/import_reading.hpp"

using namespace catchup;

namespace {

vcard card_with(const std::string& lines) {
  return test::read_one<vcard_reader>("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ana "
                                      "Lima\r\n"
                                        + lines + "END:VCARD\r\n",
                                      vcard_limits{});
}

vcard csv_row(const std::string& text) {
  return test::read_one<contacts_csv_reader>(text, csv_limits{});
}

std::optional<contact_date> date_of(const vcard& card,
                                    contact_date_kind kind) {
  for (auto& d : card.dates)
    if (d.kind == kind)
      return d;
  return std::nullopt;
}

void check(const std::optional<contact_date>& d, int month, int day,
           std::optional<int> year) {
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST(d->month == month);
  BOOST_TEST(d->day == day);
  BOOST_TEST((d->year == year));
}

constexpr auto birthday = contact_date_kind::birthday;
constexpr auto anniversary = contact_date_kind::anniversary;

} // namespace

BOOST_AUTO_TEST_SUITE(formats_contact_dates)

BOOST_AUTO_TEST_CASE(iso_forms_parse_and_bad_ones_say_why) {
  struct good_case {
    const char* text;
    int month;
    int day;
    std::optional<int> year;
  };
  for (auto& c : std::vector<good_case>{
         {"1985-04-12", 4, 12, 1985},
         {"19850412", 4, 12, 1985},
         {"1985-04-12T00:00:00Z", 4, 12, 1985},
         {"19850412T235959", 4, 12, 1985},
         {"--0412", 4, 12, std::nullopt},
         {"--04-12", 4, 12, std::nullopt},
         {"--0229", 2, 29, std::nullopt},
         {"2000-02-29", 2, 29, 2000},
         {"1604-03-05", 3, 5, std::nullopt}, // Apple's "no year"
       }) {
    contact_date d;
    auto why = parse_iso_contact_date(c.text, birthday, d);
    BOOST_TEST(!why.has_value(), c.text << ": " << why.value_or(""));
    BOOST_TEST(d.month == c.month, c.text);
    BOOST_TEST(d.day == c.day, c.text);
    BOOST_TEST((d.year == c.year), c.text);
  }
  for (auto* bad : {"1985-13-01", "1985-02-30", "--0230", "--1301",
                    "1985-04-31", "1985-02-29", "garbage", "", "1985",
                    "1985-04", "--04", "19851301", "1985-0a-12", "T10:00",
                    "0000-01-01", "--00-10", "1985-04-00"}) {
    contact_date d;
    BOOST_TEST(parse_iso_contact_date(bad, birthday, d).has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(the_next_occurrence_wraps_and_feb_29_falls_on_feb_28) {
  const civil_day dec_30{2026, 12, 30};
  auto next = next_occurrence(dec_30, 1, 2);
  BOOST_TEST(next.year == 2027);
  BOOST_TEST(next.month == 1);
  BOOST_TEST(next.day == 2);
  next = next_occurrence(dec_30, 12, 30);
  BOOST_TEST(next.year == 2026);
  next = next_occurrence(civil_day{2027, 2, 1}, 2, 29);
  BOOST_TEST(next.day == 28);
  next = next_occurrence(civil_day{2028, 2, 1}, 2, 29);
  BOOST_TEST(next.day == 29);
  // Past Feb 28 of a common year, the next is in the following year.
  next = next_occurrence(civil_day{2027, 3, 1}, 2, 29);
  BOOST_TEST(next.year == 2028);
  BOOST_TEST(next.day == 29);
}

BOOST_AUTO_TEST_CASE(vcard_reads_bday_and_anniversary_in_every_form) {
  check(date_of(card_with("BDAY:1985-04-12\r\n"), birthday), 4, 12, 1985);
  check(date_of(card_with("BDAY:19850412\r\n"), birthday), 4, 12, 1985);
  check(date_of(card_with("BDAY;VALUE=date:1985-04-12\r\n"), birthday), 4, 12,
        1985);
  check(date_of(card_with("BDAY;value=DATE:19850412\r\n"), birthday), 4, 12,
        1985);
  check(date_of(card_with("BDAY:1985-04-12T00:00:00Z\r\n"), birthday), 4, 12,
        1985);
  check(date_of(card_with("BDAY;VALUE=date-time:19850412T101500\r\n"),
                birthday),
        4, 12, 1985);
  check(date_of(card_with("BDAY:--0412\r\n"), birthday), 4, 12, std::nullopt);
  check(date_of(card_with("BDAY:--04-12\r\n"), birthday), 4, 12,
        std::nullopt);
  check(date_of(card_with("item1.BDAY:--0229\r\n"), birthday), 2, 29,
        std::nullopt);
  check(date_of(card_with("ANNIVERSARY:20091010\r\n"), anniversary), 10, 10,
        2009);
  check(date_of(card_with("ANNIVERSARY;VALUE=DATE:2009-10-10\r\n"),
                anniversary),
        10, 10, 2009);
  check(date_of(card_with("X-ANNIVERSARY:1990-04-30\r\n"), anniversary), 4,
        30, 1990);
  check(date_of(card_with("X-MS-ANNIVERSARY:20110113\r\n"), anniversary), 1,
        13, 2011);
  auto both = card_with("BDAY:1970-09-21\r\nX-ANNIVERSARY:1990-04-30\r\n");
  BOOST_TEST(both.dates.size() == 2u);
  BOOST_TEST(both.warnings.empty());
}

BOOST_AUTO_TEST_CASE(vcard_keeps_the_first_date_of_a_kind) {
  // FullContact writes the same birthday twice, the second as text.
  auto card = card_with("BDAY;ALTID=1:20160801\r\n"
                        "BDAY;ALTID=1;VALUE=text:2016-08-01\r\n"
                        "BDAY:19990101\r\n");
  BOOST_TEST(card.dates.size() == 1u);
  check(date_of(card, birthday), 8, 1, 2016);
  BOOST_TEST(card.warnings.empty());
  // A text value alone is no date and no mistake.
  card = card_with("BDAY;VALUE=text:circa 1800\r\n");
  BOOST_TEST(card.dates.empty());
  BOOST_TEST(card.warnings.empty());
}

BOOST_AUTO_TEST_CASE(a_malformed_vcard_date_is_a_warning_and_the_card_stays) {
  for (auto* bad : {"BDAY:1985-13-01", "BDAY:1985-02-30", "BDAY:garbage",
                    "BDAY:--1301", "ANNIVERSARY:2001-02-29"}) {
    auto card = card_with("EMAIL:ana@example.org\r\n" + std::string{bad}
                          + "\r\nNOTE:kept\r\n");
    BOOST_TEST(card.dates.empty(), bad);
    BOOST_TEST(card.formatted_name == "Ana Lima");
    BOOST_TEST(card.note == "kept");
    BOOST_REQUIRE_EQUAL(card.warnings.size(), 1u);
    // BEGIN, VERSION, FN, EMAIL, then the date on line 5.
    BOOST_TEST(card.warnings[0].line == 5u, bad);
    const std::string field = std::string{bad}.substr(0, std::string{bad}.find(':'));
    BOOST_TEST(card.warnings[0].reason.rfind(field + " left out: ", 0) == 0u,
               card.warnings[0].reason);
    BOOST_TEST(card.warnings[0].excerpt == bad);
  }
  // A malformed date before a good one of its kind: the good one is kept.
  auto card = card_with("BDAY:1985-02-30\r\nBDAY:1985-03-02\r\n");
  check(date_of(card, birthday), 3, 2, 1985);
  BOOST_TEST(card.warnings.size() == 1u);
}

BOOST_AUTO_TEST_CASE(imported_contacts_carry_their_dates) {
  auto card = card_with("BDAY:--0412\r\nANNIVERSARY:20091010\r\n");
  imported_contact c;
  std::string reason;
  BOOST_REQUIRE(to_imported_contact(card, c, reason));
  BOOST_REQUIRE_EQUAL(c.dates.size(), 2u);
  BOOST_TEST((c.dates[0].kind == birthday));
  BOOST_TEST((c.dates[1].kind == anniversary));
  BOOST_TEST((c.dates[1].year == 2009));
}

BOOST_AUTO_TEST_CASE(real_vcards_with_dates) {
  auto r = test::read_real<vcard_reader>(
    "vcard", "ezvcard_thunderbird-MoreFunctionsForAddressBook-extension.vcf",
    vcard_limits{});
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  check(date_of(r.cards[0], birthday), 9, 21, 1970);
  check(date_of(r.cards[0], anniversary), 4, 30, 1990);

  r = test::read_real<vcard_reader>("vcard", "ezvcard_John_Doe_MAC_ADDRESS_BOOK.vcf",
                                    vcard_limits{});
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  check(date_of(r.cards[0], birthday), 6, 6, 2012);

  // CardBook's "BDAY:19723101" (month 31) is a warning; both cards read.
  r = test::read_real<vcard_reader>("vcard", "folkerkinzel_v4.vcf",
                                    vcard_limits{});
  BOOST_TEST(r.errors.empty());
  std::size_t warnings = 0;
  for (auto& card : r.cards)
    for (auto& w : card.warnings) {
      ++warnings;
      BOOST_TEST(w.reason.rfind("BDAY left out: ", 0) == 0u, w.reason);
      BOOST_TEST(w.line == 22u);
    }
  BOOST_TEST(warnings == 1u);
}

BOOST_AUTO_TEST_CASE(google_csv_birthday_column) {
  auto row = csv_row("Name,Birthday,E-mail 1 - Value\n"
                     "Ana Lima,1985-04-12,ana@example.org\n");
  check(date_of(row, birthday), 4, 12, 1985);
  row = csv_row("Name,Birthday\nAna Lima,--04-12\n");
  check(date_of(row, birthday), 4, 12, std::nullopt);
  row = csv_row("Name,Birthday\nAna Lima,\n");
  BOOST_TEST(row.dates.empty());
  BOOST_TEST(row.warnings.empty());
  for (auto* bad : {"1985-13-01", "1985-02-30", "--0230", "sometime"}) {
    row = csv_row(std::string{"Name,Birthday\nAna Lima,"} + bad + "\n");
    BOOST_TEST(row.dates.empty(), bad);
    BOOST_TEST(row.formatted_name == "Ana Lima");
    BOOST_REQUIRE_EQUAL(row.warnings.size(), 1u);
    BOOST_TEST(row.warnings[0].line == 2u);
    BOOST_TEST(row.warnings[0].reason.rfind("Birthday left out: ", 0) == 0u,
               row.warnings[0].reason);
  }
}

BOOST_AUTO_TEST_CASE(outlook_csv_birthday_and_anniversary_columns) {
  auto row = csv_row("Display Name,Birthday,Anniversary\n"
                     "Ana Lima,20/01/1991,1/20/1992\n");
  check(date_of(row, birthday), 1, 20, 1991);
  check(date_of(row, anniversary), 1, 20, 1992);
  // Outlook's empty date.
  row = csv_row("Display Name,Birthday\nAna Lima,0/0/00\n");
  BOOST_TEST(row.dates.empty());
  BOOST_TEST(row.warnings.empty());
  // Day and month that cannot be told apart are refused, not guessed.
  row = csv_row("Display Name,Birthday,Anniversary\n"
                "Ana Lima,3/4/1991,31/02/1991\n");
  BOOST_TEST(row.dates.empty());
  BOOST_REQUIRE_EQUAL(row.warnings.size(), 2u);
  BOOST_TEST(row.warnings[0].reason.rfind("Birthday left out: ", 0) == 0u);
  BOOST_TEST(row.warnings[1].reason.rfind("Anniversary left out: ", 0)
             == 0u);

  auto r = test::read_real<contacts_csv_reader>("csv", "roundcube_all.csv",
                                                csv_limits{});
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  check(date_of(r.cards[0], birthday), 1, 20, 1991);
  check(date_of(r.cards[0], anniversary), 2, 20, 1992);
}

BOOST_AUTO_TEST_CASE(thunderbird_csv_birth_year_month_day) {
  auto r = test::read_real<contacts_csv_reader>("csv", "roundcube_tb_plain.csv",
                                                csv_limits{});
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  check(date_of(r.cards[0], birthday), 11, 15, 1970);
  auto row = csv_row("Display Name,Birth Year,Birth Month,Birth Day\n"
                     "Ana Lima,,4,12\n");
  check(date_of(row, birthday), 4, 12, std::nullopt);
  row = csv_row("Display Name,Birth Year,Birth Month,Birth Day\n"
                "Ana Lima,1990,2,30\n");
  BOOST_TEST(row.dates.empty());
  BOOST_REQUIRE_EQUAL(row.warnings.size(), 1u);
  BOOST_TEST(row.warnings[0].reason.rfind("Birth Year/Month/Day left out: ", 0)
             == 0u);

  auto google = test::read_real<contacts_csv_reader>(
    "csv", "roundcube_gmail.csv", csv_limits{});
  BOOST_REQUIRE(!google.cards.empty());
  check(date_of(google.cards[0], birthday), 12, 12, 1975);
}

BOOST_AUTO_TEST_SUITE_END()
