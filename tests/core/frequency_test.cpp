// SPDX-License-Identifier: Apache-2.0
// Frequency classes: the thresholds of the original design and the labels
// shared with SQL. Checked value by value against the specification.

#include <boost/test/unit_test.hpp>

#include "core/frequency.hpp"

using namespace catchup;

BOOST_AUTO_TEST_SUITE(core_frequency)

BOOST_AUTO_TEST_CASE(thresholds_match_the_original_design) {
  BOOST_TEST(threshold_days(frequency::daily) == 1);
  BOOST_TEST(threshold_days(frequency::weekly) == 7);
  BOOST_TEST(threshold_days(frequency::biweekly) == 14);
  BOOST_TEST(threshold_days(frequency::monthly) == 30);
  BOOST_TEST(threshold_days(frequency::quarterly) == 90);
  BOOST_TEST(threshold_days(frequency::yearly) == 365);
  BOOST_TEST(threshold_days(frequency::flexible) == 60);
  BOOST_TEST(threshold_days(frequency::na) == 365);
  BOOST_TEST(threshold_days(default_frequency) == 30);
}

BOOST_AUTO_TEST_CASE(labels_round_trip_and_reject_unknown_text) {
  for (auto f : all_frequencies) {
    auto parsed = parse_frequency(to_string(f));
    BOOST_REQUIRE(parsed.has_value());
    BOOST_TEST(static_cast<int>(*parsed) == static_cast<int>(f));
  }
  BOOST_TEST(!parse_frequency("Weekly").has_value());
  BOOST_TEST(!parse_frequency("").has_value());
  BOOST_TEST(!parse_frequency("fortnightly").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
