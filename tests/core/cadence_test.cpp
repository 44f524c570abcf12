// SPDX-License-Identifier: Apache-2.0
// How a person writes a cadence or an importance: every accepted form, and
// every refusal saying what was wrong.

#include <boost/test/unit_test.hpp>

#include "core/cadence.hpp"

using namespace catchup;

BOOST_AUTO_TEST_SUITE(core_cadence)

BOOST_AUTO_TEST_CASE(classes_days_and_none_are_read) {
  std::string why;
  auto weekly = parse_cadence("weekly", why);
  BOOST_REQUIRE(weekly);
  BOOST_TEST((weekly->named == frequency::weekly));
  for (std::string text : {"45", "45d", "every 45 days", " 45 days ",
                           "every 45d"}) {
    auto c = parse_cadence(text, why);
    BOOST_REQUIRE_MESSAGE(c, text);
    BOOST_TEST(c->days == 45);
    BOOST_TEST(!c->named);
  }
  BOOST_TEST(parse_cadence("1", why)->days == 1);
  BOOST_TEST(parse_cadence("3650", why)->days == 3650);
  auto none = parse_cadence("none", why);
  BOOST_REQUIRE(none);
  BOOST_TEST(none->none());
}

BOOST_AUTO_TEST_CASE(out_of_range_and_unknown_cadences_are_refused) {
  for (std::string text : {"0", "3651", "-3", "sometimes", "", "45 weeks",
                           "99999999999", "4 5"}) {
    std::string why;
    BOOST_TEST(!parse_cadence(text, why), text);
    BOOST_TEST(why.find("cadence '" + text + "'") != std::string::npos, why);
  }
}

BOOST_AUTO_TEST_CASE(importances_are_read_and_refused) {
  std::string why;
  for (std::string c : {"inner", "close", "active", "casual"})
    BOOST_TEST(*parse_importance(c, why) == c);
  BOOST_TEST(parse_importance("none", why)->empty());
  BOOST_TEST(!parse_importance("vip", why));
  BOOST_TEST(why.find("importance 'vip'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
