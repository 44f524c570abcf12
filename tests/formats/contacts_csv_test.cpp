// SPDX-License-Identifier: Apache-2.0
// The streaming contacts CSV reader: RFC 4180 syntax on small inline files,
// the limits and error recovery, both Google layouts, and the real exports
// of ../shared/data/real/csv.

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/contacts_csv.hpp"
#include "tests/support/import_reading.hpp"

using namespace catchup;

namespace {

using test::read_result;

read_result read_text(const std::string &text, csv_limits limits = {}) {
  return test::read_text<contacts_csv_reader>(text, limits);
}

vcard read_one(const std::string &text) {
  return test::read_one<contacts_csv_reader>(text, csv_limits{});
}

read_result read_real(const std::string &name) {
  return test::read_real<contacts_csv_reader>("csv", name, csv_limits{});
}

using strings = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(formats_contacts_csv)

BOOST_AUTO_TEST_CASE(quoted_fields_commas_and_escaped_quotes) {
  const vcard c = read_one("Name,E-mail Address,Notes\r\n"
                           "\"Doe, Jane\",jane@example.com,\"say \"\"hi\"\"\"\r\n");
  BOOST_TEST(c.formatted_name == "Doe, Jane");
  BOOST_TEST(c.emails == strings{"jane@example.com"});
  BOOST_TEST(c.note == "say \"hi\"");
  BOOST_TEST(c.first_line == 2u);
}

BOOST_AUTO_TEST_CASE(multi_line_fields_keep_physical_line_numbers) {
  const read_result r = read_text(
      "Name,Notes,E-mail Address\n"
      "A,\"line one\r\nline two\nline three\",a@example.com\n"
      "B,,b@example.com\n");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 2u);
  BOOST_TEST(r.cards[0].note == "line one\nline two\nline three");
  BOOST_TEST(r.cards[0].first_line == 2u);
  BOOST_TEST(r.cards[1].first_line == 5u);
  BOOST_TEST(r.cards[1].formatted_name == "B");
  BOOST_TEST(r.lines == 5u);
}

BOOST_AUTO_TEST_CASE(bom_is_skipped_and_blank_rows_are_ignored) {
  const std::string text = "\xEF\xBB\xBF"
                           "First Name,Last Name,E-mail Address\r\n"
                           "\r\n"
                           ",,\r\n"
                           "Ada,Lovelace,\r\n";
  const read_result r = read_text(text);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].given_name == "Ada");
  BOOST_TEST(r.cards[0].family_name == "Lovelace");
  BOOST_TEST(r.cards[0].formatted_name == "Ada Lovelace");
  BOOST_TEST(r.cards[0].first_line == 4u);
  BOOST_TEST(r.bytes == text.size());
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_an_error_naming_its_line) {
  const read_result r =
      read_text("Name,Notes\n"
                "Good,\n"
                "Bad,\"first\nsecond \xC3\x28 here\"\n"
                "After,\n");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 4u);
  BOOST_TEST(r.errors[0].reason == "invalid UTF-8");
  BOOST_TEST(r.errors[0].excerpt == "second ?( here");
  BOOST_REQUIRE_EQUAL(r.cards.size(), 2u);
  BOOST_TEST(r.cards[1].formatted_name == "After");
  BOOST_TEST(r.cards[1].first_line == 5u);
}

BOOST_AUTO_TEST_CASE(oversized_record_is_skipped_and_reading_resumes) {
  csv_limits limits;
  limits.record_bytes_max = 100;
  const std::string big(300, 'x');
  const read_result r = read_text("Name,Notes\n"
                                  "Big,\"" + big + "\n, still quoted\"\n"
                                  "Good,fine\n",
                                  limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 2u);
  BOOST_TEST(r.errors[0].reason.find("larger than 100") != std::string::npos);
  BOOST_TEST(r.errors[0].excerpt.size() <= 60u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].formatted_name == "Good");
  BOOST_TEST(r.cards[0].first_line == 4u);
}

BOOST_AUTO_TEST_CASE(unclosed_quote_resynchronises_at_a_line_break) {
  csv_limits limits;
  limits.record_bytes_max = 50;
  std::string text = "Name,Notes\nStray,\"never closed\n";
  for (int i = 0; i < 20; ++i)
    text += "filler line " + std::to_string(i) + "\n";
  text += "Good,fine\n";
  const read_result r = read_text(text, limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 2u);
  BOOST_REQUIRE(!r.cards.empty());
  BOOST_TEST(r.cards.back().formatted_name == "Good");
}

BOOST_AUTO_TEST_CASE(too_many_fields_is_an_error) {
  csv_limits limits;
  limits.fields_max = 4;
  const read_result r = read_text("Name,Notes\nA,1,2,3,4,5\nB,\n", limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 2u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].formatted_name == "B");
}

BOOST_AUTO_TEST_CASE(not_a_contacts_csv_file) {
  const read_result r = read_text("Date,Amount,Payee\n2024-01-01,3,Shop\n");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 1u);
  BOOST_TEST(r.errors[0].reason ==
             "not a contacts CSV file (no name or e-mail column)");
  BOOST_TEST(r.errors[0].excerpt == "Date,Amount,Payee");
  BOOST_TEST(r.cards.empty());

  const read_result vcf = read_text("BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n");
  BOOST_REQUIRE_EQUAL(vcf.errors.size(), 1u);
  BOOST_TEST(vcf.errors[0].line == 1u);

  const read_result empty = read_text("");
  BOOST_TEST(empty.errors.empty());
  BOOST_TEST(empty.cards.empty());
}

BOOST_AUTO_TEST_CASE(google_legacy_layout) {
  const vcard c = read_one(
      "Name,Given Name,Family Name,Notes,Group Membership,E-mail 1 - Type,"
      "E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Address 1 - City,"
      "Organization 1 - Name,Website 1 - Value\n"
      "Jo Bloggs,Jo,Bloggs,hello,* My Contacts ::: * Friends ::: Work,* Home,"
      "jo@a.example ::: jo@b.example,Mobile,+1 555 0100,Paris,ACME,"
      "https://jo.example\n");
  BOOST_TEST(c.formatted_name == "Jo Bloggs");
  BOOST_TEST(c.given_name == "Jo");
  BOOST_TEST(c.family_name == "Bloggs");
  BOOST_TEST(c.note == "hello");
  BOOST_TEST(c.categories == (strings{"Friends", "Work"}));
  BOOST_TEST(c.emails == (strings{"jo@a.example", "jo@b.example"}));
  BOOST_TEST(c.phones == strings{"+1 555 0100"});
  BOOST_TEST(c.locality == "Paris");
  BOOST_TEST(c.organization == "ACME");
  BOOST_TEST(c.urls == strings{"https://jo.example"});
}

BOOST_AUTO_TEST_CASE(google_current_layout) {
  const vcard c = read_one(
      "First Name,Middle Name,Last Name,Phonetic First Name,Labels,"
      "E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,"
      "Phone 1 - Label,Phone 1 - Value,Address 1 - Label,Address 1 - City,"
      "Organization Name,Notes,Website 1 - Label,Website 1 - Value\r\n"
      "Mary,Ann,Smith,,* myContacts ::: Family,* Home,mary@example.com,Work,"
      "mary@work.example,Mobile,+44 20 7946 0000,Home,London,Initech,"
      "\"two\r\nlines\",Blog,https://mary.example\r\n");
  BOOST_TEST(c.formatted_name == "Mary Ann Smith");
  BOOST_TEST(c.given_name == "Mary");
  BOOST_TEST(c.family_name == "Smith");
  BOOST_TEST(c.categories == strings{"Family"});
  BOOST_TEST(c.emails == (strings{"mary@example.com", "mary@work.example"}));
  BOOST_TEST(c.phones == strings{"+44 20 7946 0000"});
  BOOST_TEST(c.locality == "London");
  BOOST_TEST(c.organization == "Initech");
  BOOST_TEST(c.note == "two\nlines");
  BOOST_TEST(c.urls == strings{"https://mary.example"});
}

BOOST_AUTO_TEST_CASE(real_roundcube_gmail) {
  const read_result r = read_real("roundcube_gmail.csv");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  const vcard &c = r.cards[0];
  BOOST_TEST(c.formatted_name == "Prefix Firstname Middle Lastname Suffix");
  BOOST_TEST(c.given_name == "Firstname");
  BOOST_TEST(c.family_name == "Lastname");
  BOOST_TEST(c.note == "note\"note");
  BOOST_TEST(c.categories == strings{"Test"});
  BOOST_TEST(c.emails == (strings{"home@aaa.pl", "work@email.pl",
                                  "unknown@email.com", "other@email.com"}));
  BOOST_TEST(c.phones == (strings{"pager", "mainphone", "homephone", "homefax",
                                  "mobile", "workphone", "workfax"}));
  BOOST_TEST(c.locality == "home_city");
  BOOST_TEST(c.organization == "company");
  BOOST_TEST(c.urls == (strings{"test.com", "home.page.com"}));
  BOOST_TEST(c.first_line == 2u);
  BOOST_TEST(r.lines == 7u);
  BOOST_TEST(r.bytes == 1995u);
}

BOOST_AUTO_TEST_CASE(real_roundcube_tb_plain) {
  const read_result r = read_real("roundcube_tb_plain.csv");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  const vcard &c = r.cards[0];
  BOOST_TEST(c.formatted_name == "Displayname");
  BOOST_TEST(c.given_name == "Firstname");
  BOOST_TEST(c.family_name == "Lastname");
  BOOST_TEST(c.emails == (strings{"test@domain.tld", "next@domain.tld"}));
  BOOST_TEST(c.phones == (strings{"phone work", "phone home", "mobile"}));
  BOOST_TEST(c.locality == "City");
  BOOST_TEST(c.organization == "Organization");
  BOOST_TEST(c.urls == (strings{"http://page.com", "http://webpage.tld"}));
  BOOST_TEST(c.note.empty());
}

BOOST_AUTO_TEST_CASE(real_roundcube_outlook) {
  const read_result r = read_real("roundcube_outlook.csv");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].formatted_name.empty());
  BOOST_TEST(r.cards[0].emails ==
             (strings{"test1@domain.tld", "test2@domain.tld",
                      "test3@domain.tld"}));
}

BOOST_AUTO_TEST_CASE(real_roundcube_all_with_bom) {
  const read_result r = read_real("roundcube_all.csv");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  const vcard &c = r.cards[0];
  BOOST_TEST(c.formatted_name == "Display Name");
  BOOST_TEST(c.given_name == "First Name");
  BOOST_TEST(c.family_name == "Last Name");
  BOOST_TEST(c.organization == "Company");
  BOOST_TEST(c.emails == (strings{"home@example.com", "work@example.com",
                                  "other@example.com"}));
  BOOST_TEST(c.phones == (strings{"100", "300"}));
  BOOST_TEST(c.locality == "Home City");
  BOOST_TEST(c.note == "Notes");
  BOOST_TEST(c.categories == strings{"test"});
}

BOOST_AUTO_TEST_SUITE_END()
