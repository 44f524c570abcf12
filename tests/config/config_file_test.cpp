// SPDX-License-Identifier: Apache-2.0
// The config file reader: sections, quoting, comments, and an error naming
// file:line for every malformed line.

#include <boost/test/unit_test.hpp>

#include <sstream>

#include "config/config.hpp"
#include "config/config_file.hpp"

using namespace catchup::config;

namespace {

std::vector<file_value> parse(const std::string& text) {
  std::istringstream in{text};
  return parse_config_text(in, "test.conf");
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_config_file)

BOOST_AUTO_TEST_CASE(sections_prefix_keys_and_comments_are_skipped) {
  auto values = parse("\xEF\xBB\xBF# leading comment\n"
                      "log.level = debug\n"
                      "\n"
                      "[database]\n"
                      "; another comment\n"
                      "url = \"postgresql://h/db?x=1 # not a comment\"\n"
                      "data_dir = /srv/pg   # trailing comment\n");
  BOOST_REQUIRE_EQUAL(values.size(), 3u);
  BOOST_TEST(values[0].key == "log.level");
  BOOST_TEST(values[0].value == "debug");
  BOOST_TEST(values[0].line == 2u);
  BOOST_TEST(values[1].key == "database.url");
  BOOST_TEST(values[1].value == "postgresql://h/db?x=1 # not a comment");
  BOOST_TEST(values[2].key == "database.data_dir");
  BOOST_TEST(values[2].value == "/srv/pg");
  BOOST_TEST(values[2].line == 7u);
}

BOOST_AUTO_TEST_CASE(quoted_values_support_escapes) {
  auto values = parse("k = \"a \\\"b\\\" \\\\ c\\td\"\n");
  BOOST_REQUIRE_EQUAL(values.size(), 1u);
  BOOST_TEST(values[0].value == "a \"b\" \\ c\td");
}

BOOST_AUTO_TEST_CASE(malformed_lines_name_file_and_line) {
  BOOST_TEST(error_of("a = 1\nno equals sign\n")
             == "test.conf:2: expected 'key = value', got: no equals sign");
  BOOST_TEST(error_of("[database\n")
             == "test.conf:1: missing ']' in section header");
  BOOST_TEST(error_of("x = \"open\n") == "test.conf:1: missing closing quote");
  BOOST_TEST(error_of("x = \"a\" b\n")
             == "test.conf:1: unexpected text after closing quote: b");
  BOOST_TEST(error_of("x = \"\\q\"\n").rfind("test.conf:1: unknown escape", 0)
             == 0u);
  BOOST_TEST(error_of(" = 3\n") == "test.conf:1: missing key before '='");
  BOOST_TEST(error_of("bad key = 3\n")
             == "test.conf:1: invalid key name 'bad key'");
  BOOST_TEST(error_of("[a b]\n") == "test.conf:1: invalid section name [a b]");
}

BOOST_AUTO_TEST_CASE(a_key_set_twice_is_an_error) {
  BOOST_TEST(error_of("[log]\nlevel = info\n\nlevel = debug\n")
             == "test.conf:4: key log.level is set twice (first on line 2)");
}

BOOST_AUTO_TEST_SUITE_END()
