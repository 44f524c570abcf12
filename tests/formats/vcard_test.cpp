// SPDX-License-Identifier: Apache-2.0
// The streaming vCard reader: each syntax feature on a small inline card,
// the limits and error recovery, the real exports of ../shared/data, and a
// generated 100,000-card stream.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "formats/vcard.hpp"
#include "tests/support/import_reading.hpp"

using namespace catchup;

namespace {

using test::read_result;

read_result read_all(std::istream &in, vcard_limits limits = {}) {
  return test::read_all<vcard_reader>(in, limits);
}

read_result read_text(const std::string &text, vcard_limits limits = {}) {
  return test::read_text<vcard_reader>(text, limits);
}

vcard read_one(const std::string &text) {
  return test::read_one<vcard_reader>(text, vcard_limits{});
}

/// ASCII/Latin-1 text as UTF-16 code units (every char below U+0100).
std::string utf16(std::string_view latin1, bool little_endian) {
  std::string out;
  for (char c : latin1) {
    if (little_endian) {
      out += c;
      out += '\0';
    } else {
      out += '\0';
      out += c;
    }
  }
  return out;
}

std::filesystem::path real_vcard_dir() {
  return test::real_data_dir("vcard");
}

read_result read_real(const std::string &name) {
  return test::read_real<vcard_reader>("vcard", name, vcard_limits{});
}

bool contains(const std::vector<std::string> &list, const std::string &value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

/// Generates `count` cards on the fly, so the stream never exists whole.
class generated_cards : public std::streambuf {
public:
  explicit generated_cards(std::size_t count) : count_(count) {
  }

  std::uint64_t bytes_made() const {
    return bytes_;
  }

protected:
  int_type underflow() override {
    if (made_ == count_)
      return traits_type::eof();
    const std::string n = std::to_string(made_);
    card_ =
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:uid-" + n + "\r\nFN:Person " + n +
        "\r\nN:Family" + n + ";Given" + n + ";;;\r\nEMAIL;TYPE=home:p" + n +
        "@example.com\r\nTEL;TYPE=cell:+1 555 " + n +
        "\r\nNOTE:a note that is folded over\r\n  two lines\r\nEND:VCARD\r\n";
    ++made_;
    bytes_ += card_.size();
    setg(card_.data(), card_.data(), card_.data() + card_.size());
    return traits_type::to_int_type(card_[0]);
  }

private:
  std::size_t count_;
  std::size_t made_ = 0;
  std::uint64_t bytes_ = 0;
  std::string card_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(formats_vcard)

BOOST_AUTO_TEST_CASE(reads_the_fields_of_a_3_0_card) {
  const vcard c =
      read_one("BEGIN:VCARD\r\n"
               "VERSION:3.0\r\n"
               "UID:abc-1\r\n"
               "FN:Jane Doe\r\n"
               "N:Doe;Jane;;Dr.;\r\n"
               "ORG:Acme;Research\r\n"
               "EMAIL;TYPE=INTERNET:jane@example.com\r\n"
               "EMAIL:jd@example.org\r\n"
               "TEL;TYPE=CELL:+1 555 0100\r\n"
               "ADR;TYPE=HOME:;;1 Main St;Springfield;IL;62701;USA\r\n"
               "NOTE:hello\r\n"
               "REV:2024-01-02T03:04:05Z\r\n"
               "URL:https://example.com\r\n"
               "X-SOCIALPROFILE;TYPE=twitter:https://twitter.com/jane\r\n"
               "CATEGORIES:friends,work\r\n"
               "END:VCARD\r\n");
  BOOST_TEST(c.uid == "abc-1");
  BOOST_TEST(c.formatted_name == "Jane Doe");
  BOOST_TEST(c.family_name == "Doe");
  BOOST_TEST(c.given_name == "Jane");
  BOOST_TEST(c.organization == "Acme");
  BOOST_TEST(c.emails ==
             (std::vector<std::string>{"jane@example.com", "jd@example.org"}));
  BOOST_TEST(c.phones == (std::vector<std::string>{"+1 555 0100"}));
  BOOST_TEST(c.locality == "Springfield");
  BOOST_TEST(c.note == "hello");
  BOOST_TEST(c.revision == "2024-01-02T03:04:05Z");
  BOOST_TEST(c.urls == (std::vector<std::string>{"https://example.com",
                                                 "https://twitter.com/jane"}));
  BOOST_TEST(c.categories == (std::vector<std::string>{"friends", "work"}));
  BOOST_TEST(c.first_line == 1u);
}

BOOST_AUTO_TEST_CASE(lf_endings_lowercase_names_and_first_line) {
  const read_result r = read_text(
      "\nbegin:vcard\nfn:A\nend:vcard\n\nBEGIN:VCARD\nFn:B\nEnd:VCard\n");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 2u);
  BOOST_TEST(r.cards[0].formatted_name == "A");
  BOOST_TEST(r.cards[0].first_line == 2u);
  BOOST_TEST(r.cards[1].formatted_name == "B");
  BOOST_TEST(r.cards[1].first_line == 6u);
}

BOOST_AUTO_TEST_CASE(unfolds_lines_starting_with_space_or_tab) {
  const vcard c = read_one(
      "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:one\r\n  two\r\n\tthree\r\n"
      "FN:Fol\r\n ded\r\nEM\r\n AIL;TY\r\n PE=home:a@b.c\r\nEND:VCARD\r\n");
  BOOST_TEST(c.note == "one twothree");
  BOOST_TEST(c.formatted_name == "Folded");
  BOOST_TEST(c.emails == (std::vector<std::string>{"a@b.c"}));
}

BOOST_AUTO_TEST_CASE(item_groups_are_ignored) {
  const vcard c = read_one(
      "BEGIN:VCARD\nVERSION:3.0\nitem1.EMAIL;TYPE=INTERNET:x@y.z\n"
      "item1.X-ABLabel:_$!<Other>!$_\nITEM2.TEL:123\nitem3.URL:http://u\n"
      "END:VCARD\n");
  BOOST_TEST(c.emails == (std::vector<std::string>{"x@y.z"}));
  BOOST_TEST(c.phones == (std::vector<std::string>{"123"}));
  BOOST_TEST(c.urls == (std::vector<std::string>{"http://u"}));
}

BOOST_AUTO_TEST_CASE(parameters_with_and_without_names_and_quoted) {
  const vcard c = read_one(
      "BEGIN:VCARD\nVERSION:2.1\nTEL;HOME;VOICE:111\nTEL;TYPE=home,work:222\n"
      "EMAIL;X-LABEL=\"a;b:c,d\";TYPE=work:q@r.s\n"
      "ADR;LABEL=\"1 Main St:Town; Land\":;;1 Main St;Town;;;Land\n"
      "END:VCARD\n");
  BOOST_TEST(c.phones == (std::vector<std::string>{"111", "222"}));
  BOOST_TEST(c.emails == (std::vector<std::string>{"q@r.s"}));
  BOOST_TEST(c.locality == "Town");
}

BOOST_AUTO_TEST_CASE(escapes_and_structured_values) {
  const vcard c = read_one(
      "BEGIN:VCARD\nVERSION:3.0\nN:O\\;Brien;Se\\,an;;;\nFN:Sean O'Brien\n"
      "NOTE:line1\\nline2\\Nline3 \\\\ back\\, comma\\; semi\n"
      "ORG:A\\;B;Unit\nCATEGORIES:a\\,b,c,,d\nURL:http\\://x.y\n"
      "ADR:;;street;Saint-\\;Town;;;\nEND:VCARD\n");
  BOOST_TEST(c.family_name == "O;Brien");
  BOOST_TEST(c.given_name == "Se,an");
  BOOST_TEST(c.note == "line1\nline2\nline3 \\ back, comma; semi");
  BOOST_TEST(c.organization == "A;B");
  BOOST_TEST(c.categories == (std::vector<std::string>{"a,b", "c", "d"}));
  BOOST_TEST(c.urls == (std::vector<std::string>{"http://x.y"}));
  BOOST_TEST(c.locality == "Saint-;Town");
}

BOOST_AUTO_TEST_CASE(quoted_printable_with_soft_line_breaks) {
  const vcard c = read_one(
      "BEGIN:VCARD\r\nVERSION:2.1\r\n"
      "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=91and=C3=\r\n=BA;Jos=\r\n="
      "C3=A9;;;\r\n"
      "NOTE;QUOTED-PRINTABLE:a=3Db=0D=0A=\r\n second=\r\nEND:VCARD\r\n");
  BOOST_TEST(c.family_name == "\xC3\x91"
                              "and\xC3\xBA");
  BOOST_TEST(c.given_name == "Jos\xC3\xA9");
  // Soft breaks keep the next line's leading space; the final '=' ends it.
  BOOST_TEST(c.note == "a=b\r\n second");
}

BOOST_AUTO_TEST_CASE(base64_values_are_skipped) {
  const read_result r = read_text(
      "BEGIN:VCARD\nVERSION:2.1\nPHOTO;ENCODING=BASE64;JPEG:/9j/4AAQ\n AAAA\n "
      "AAAA\n\n"
      "FN:After Photo\nPHOTO;JPEG;B:abcd\nKEY;ENCODING=b:zzzz\nEND:VCARD\n");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].formatted_name == "After Photo");
}

BOOST_AUTO_TEST_CASE(charset_windows_1252_and_iso_8859_1) {
  const vcard c = read_one(
      "BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=WINDOWS-1252:M\xFCller \x80\n"
      "NOTE;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:Stra=DFe\n"
      "ADR;CHARSET=ISO-8859-1:;;;K\xF6ln;;;\nEND:VCARD\n");
  BOOST_TEST(c.formatted_name == "M\xC3\xBCller \xE2\x82\xAC");
  BOOST_TEST(c.note == "Stra\xC3\x9F"
                       "e");
  BOOST_TEST(c.locality == "K\xC3\xB6ln");
}

BOOST_AUTO_TEST_CASE(charset_shift_jis_even_with_a_backslash_trail_byte) {
  // 0x95 0x5C is one Shift_JIS character whose second byte is '\'.
  const vcard c = read_one(
      "BEGIN:VCARD\r\nVERSION:2.1\r\n"
      "N;CHARSET=SHIFT_JIS:\x88\xC0\x93\xA1;\x83\x8D\x83\x43\x83\x68\r\n"
      "NOTE;CHARSET=SHIFT_JIS:\x95\x5C\r\nEND:VCARD\r\n");
  BOOST_TEST(c.family_name == "\xE5\xAE\x89\xE8\x97\xA4");            // 安藤
  BOOST_TEST(c.given_name == "\xE3\x83\xAD\xE3\x82\xA4\xE3\x83\x89"); // ロイド
  BOOST_TEST(c.note == "\xE8\xA1\xA8");                               // 表
}

BOOST_AUTO_TEST_CASE(a_utf8_byte_order_mark_is_skipped) {
  const vcard c = read_one("\xEF\xBB\xBF"
                           "BEGIN:VCARD\nFN:Bom\nEND:VCARD\n");
  BOOST_TEST(c.formatted_name == "Bom");
}

BOOST_AUTO_TEST_CASE(utf16_with_and_without_byte_order_mark) {
  const std::string text =
      "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ren\xE9\r\nEND:VCARD\r\n"
      "BEGIN:VCARD\r\nFN:Two\r\nEND:VCARD\r\n";
  for (const std::string &input : {std::string{"\xFF\xFE"} + utf16(text, true),
                                   std::string{"\xFE\xFF"} + utf16(text, false),
                                   utf16(text, true), utf16(text, false)}) {
    std::istringstream in{input};
    const read_result r = read_all(in);
    BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
    BOOST_REQUIRE_EQUAL(r.cards.size(), 2u);
    BOOST_TEST(r.cards[0].formatted_name == "Ren\xC3\xA9");
    BOOST_TEST(r.cards[1].formatted_name == "Two");
    BOOST_TEST(r.cards[1].first_line == 5u);
  }
}

BOOST_AUTO_TEST_CASE(utf16_is_transcoded_across_chunk_boundaries) {
  // Far bigger than one read, with non-ASCII everywhere.
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += "BEGIN:VCARD\r\nFN:\xE9t\xE9 " + std::to_string(i) +
            "\r\nEND:VCARD\r\n";
  std::istringstream in{std::string{"\xFF\xFE"} + utf16(text, true)};
  const read_result r = read_all(in);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 5000u);
  BOOST_TEST(r.cards[4999].formatted_name == "\xC3\xA9t\xC3\xA9 4999");
}

BOOST_AUTO_TEST_CASE(an_oversized_line_skips_its_card_only) {
  vcard_limits limits;
  limits.line_bytes_max = 100;
  const read_result r =
      read_text("BEGIN:VCARD\nFN:Big\nNOTE:" + std::string(500, 'x') +
                    "\nEMAIL:big@x.y\nEND:VCARD\n"
                    "BEGIN:VCARD\nFN:Good\nEND:VCARD\n",
                limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 3u);
  BOOST_TEST(r.errors[0].reason.find("line longer than 100 bytes") !=
             std::string::npos);
  BOOST_TEST(r.errors[0].excerpt == "NOTE:" + std::string(55, 'x'));
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].formatted_name == "Good");
  BOOST_TEST(r.cards[0].first_line == 6u);
}

BOOST_AUTO_TEST_CASE(an_oversized_card_skips_to_the_next_card) {
  vcard_limits limits;
  limits.card_bytes_max = 1000;
  std::string text = "BEGIN:VCARD\nFN:Huge\nPHOTO;ENCODING=b:AAAA\n";
  for (int i = 0; i < 100; ++i)
    text += " " + std::string(70, 'A') + "\n";
  text += "END:VCARD\nBEGIN:VCARD\nFN:Good\nEND:VCARD\n";
  const read_result r = read_text(text, limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].reason.find("card longer than 1000 bytes") !=
             std::string::npos);
  BOOST_TEST(r.errors[0].line > 3u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].formatted_name == "Good");
}

BOOST_AUTO_TEST_CASE(a_card_without_end_is_an_error) {
  const read_result r =
      read_text("BEGIN:VCARD\nFN:Good\nEND:VCARD\nBEGIN:VCARD\nFN:Cut\n");
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 4u);
  BOOST_TEST(r.errors[0].reason == "card has no END:VCARD");
  BOOST_TEST(r.errors[0].excerpt == "BEGIN:VCARD");
  // A missing END before the next card loses only the unterminated one.
  const read_result next =
      read_text("BEGIN:VCARD\nFN:Cut\nBEGIN:VCARD\nFN:B\nEND:VCARD\n");
  BOOST_REQUIRE_EQUAL(next.errors.size(), 1u);
  BOOST_TEST(next.errors[0].line == 1u);
  BOOST_REQUIRE_EQUAL(next.cards.size(), 1u);
  BOOST_TEST(next.cards[0].formatted_name == "B");
}

BOOST_AUTO_TEST_CASE(a_2_1_agent_card_is_skipped_inside_its_parent) {
  const vcard c =
      read_one("BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nAGENT:\nBEGIN:VCARD\n"
               "FN:Assistant\nEND:VCARD\nTEL:1\nEND:VCARD\n");
  BOOST_TEST(c.formatted_name == "Boss");
  BOOST_TEST(c.phones == (std::vector<std::string>{"1"}));
}

BOOST_AUTO_TEST_CASE(input_that_is_not_a_vcard) {
  std::istringstream in{"\n\nname,email\nJane,jane@example.com\n"};
  vcard_reader reader{in};
  vcard card;
  std::optional<vcard_error> error;
  BOOST_REQUIRE(reader.next(card, error));
  BOOST_REQUIRE(error.has_value());
  BOOST_TEST(error->line == 1u);
  BOOST_TEST(error->reason == "not a vCard file");
  BOOST_TEST(error->excerpt == "name,email");
  BOOST_TEST(!reader.next(card, error));
  std::istringstream empty{""};
  vcard_reader none{empty};
  BOOST_TEST(!none.next(card, error));
  BOOST_TEST(!error.has_value());
}

BOOST_AUTO_TEST_CASE(invalid_utf8_names_the_line) {
  const read_result r = read_text(
      "BEGIN:VCARD\nVERSION:3.0\nFN:Bad \xC3\x28 \x01 value\nEND:VCARD\n"
      "BEGIN:VCARD\nFN:Fine\nEND:VCARD\n");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].line == 3u);
  BOOST_TEST(r.errors[0].reason == "invalid UTF-8 in FN");
  BOOST_TEST(r.errors[0].excerpt == "FN:Bad ?( ? value");
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].formatted_name == "Fine");
}

BOOST_AUTO_TEST_CASE(a_4_0_tel_uri_loses_its_scheme) {
  const vcard c = read_one(
      "BEGIN:VCARD\nVERSION:4.0\nTEL;VALUE=uri;TYPE=cell:tel:+1-555-0100\n"
      "END:VCARD\n");
  BOOST_TEST(c.phones == (std::vector<std::string>{"+1-555-0100"}));
}

BOOST_AUTO_TEST_CASE(every_real_export_reads_to_the_end) {
  std::size_t files = 0;
  std::size_t cards = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator{real_vcard_dir()}) {
    std::ifstream in{entry.path(), std::ios::binary};
    BOOST_REQUIRE(in);
    vcard_reader reader{in};
    vcard card;
    std::optional<vcard_error> error;
    while (reader.next(card, error)) {
      if (error)
        BOOST_TEST_MESSAGE(entry.path().filename().string()
                           << ":" << error->line << ": " << error->reason);
      else
        ++cards;
    }
    BOOST_TEST(reader.bytes_read() == std::filesystem::file_size(entry.path()));
    ++files;
  }
  BOOST_TEST(files >= 40u);
  BOOST_TEST(cards >= 50u);
}

BOOST_AUTO_TEST_CASE(real_gmail_3_0_export) {
  const read_result r = read_real("ezvcard_John_Doe_GMAIL.vcf");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  const vcard &c = r.cards[0];
  BOOST_TEST(c.formatted_name == "Mr. John Richter, James Doe Sr.");
  BOOST_TEST(c.family_name == "Doe");
  BOOST_TEST(c.given_name == "John");
  BOOST_TEST(c.emails == (std::vector<std::string>{"john.doe@ibm.com"}));
  BOOST_TEST(c.phones ==
             (std::vector<std::string>{"905-555-1234", "905-666-1234"}));
  BOOST_TEST(c.organization == "IBM");
  BOOST_TEST(c.urls == (std::vector<std::string>{"http://www.ibm.com"}));
  BOOST_TEST(
      c.note.rfind("THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND "
                   "CONTRIBUTORS \"AS IS\" AND ANY",
                   0) == 0u);
  BOOST_TEST(c.note.find("\nFavotire Color: Blue") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(real_utf16_google_export) {
  const read_result r = read_real("folkerkinzel_v3Utf16Bom.vcf");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 2u);
  BOOST_TEST(r.cards[0].formatted_name == "Folker Kinzel");
  BOOST_TEST(
      r.cards[0].emails ==
      (std::vector<std::string>{"email1@wumms.de", "email2@folker-kinzel.de"}));
  BOOST_TEST(r.cards[0].phones == (std::vector<std::string>{"0123-45678"}));
  BOOST_TEST(r.cards[0].locality == "Halle");
  BOOST_TEST(r.cards[1].formatted_name == "KMS Au\xC3\x9F"
                                          "enstelle");
  BOOST_TEST(contains(r.cards[1].emails, "blabl\xC3\xB6@blub.com"));
  BOOST_TEST(r.cards[1].first_line == 19u);
}

BOOST_AUTO_TEST_CASE(real_utf16_without_byte_order_mark) {
  const read_result r = read_real("roundcube_utf-16_sample.vcf");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  BOOST_TEST(r.cards[0].family_name == "\xC4\xBD"
                                       "daMont\xC3\xA9");
  BOOST_TEST(r.cards[0].locality == "LaPaz");
}

BOOST_AUTO_TEST_CASE(real_2_1_shift_jis_and_quoted_printable) {
  const read_result r = read_real("aosp_v21_japanese_2.vcf");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  // 安藤 ロイド 1
  BOOST_TEST(r.cards[0].formatted_name ==
             "\xE5\xAE\x89\xE8\x97\xA4 \xE3\x83\xAD\xE3\x82\xA4\xE3\x83\x89 1");
  BOOST_TEST(r.cards[0].note == "\xE3\x83\xA1\xE3\x83\xA2"); // メモ

  const read_result android = read_real("ezvcard_John_Doe_ANDROID.vcf");
  BOOST_REQUIRE_GE(android.cards.size(), 4u);
  const vcard &c = android.cards[3];
  std::string eleven;
  for (int i = 0; i < 11; ++i)
    eleven += i == 0 ? "\xC3\x91" : " \xC3\x91";
  BOOST_TEST(c.family_name == eleven);
  BOOST_TEST(c.phones == (std::vector<std::string>{"123456", "234567",
                                                   "3456789", "45678901"}));
}

BOOST_AUTO_TEST_CASE(a_generated_stream_of_100000_cards) {
  generated_cards source{100000};
  std::istream in{&source};
  vcard_reader reader{in};
  vcard card;
  std::optional<vcard_error> error;
  std::size_t count = 0;
  while (reader.next(card, error)) {
    BOOST_REQUIRE(!error.has_value());
    if (count == 0 || count == 99999) {
      const std::string n = std::to_string(count);
      BOOST_TEST(card.uid == "uid-" + n);
      BOOST_TEST(card.formatted_name == "Person " + n);
      BOOST_TEST(card.given_name == "Given" + n);
      BOOST_TEST(card.emails ==
                 (std::vector<std::string>{"p" + n + "@example.com"}));
      BOOST_TEST(card.note == "a note that is folded over two lines");
      BOOST_TEST(card.first_line == count * 10 + 1);
    }
    ++count;
  }
  BOOST_TEST(count == 100000u);
  BOOST_TEST(reader.line() == 1000000u);
  BOOST_TEST(reader.bytes_read() == source.bytes_made());
}

BOOST_AUTO_TEST_SUITE_END()
