// SPDX-License-Identifier: Apache-2.0
// Suggestion ids made where suggestions are made: canonical v4 UUIDs,
// different every time.

#include <boost/test/unit_test.hpp>

#include <set>

#include "core/uuid.hpp"

using namespace catchup;

BOOST_AUTO_TEST_SUITE(core_uuid)

BOOST_AUTO_TEST_CASE(random_uuids_are_canonical_version_4_and_distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto id = random_uuid();
    BOOST_TEST_REQUIRE(id.size() == 36u);
    for (std::size_t k = 0; k < id.size(); ++k) {
      bool dash = k == 8 || k == 13 || k == 18 || k == 23;
      if (dash)
        BOOST_TEST_REQUIRE(id[k] == '-');
      else
        BOOST_TEST_REQUIRE(std::string{"0123456789abcdef"}.find(id[k])
                           != std::string::npos);
    }
    BOOST_TEST_REQUIRE(id[14] == '4');
    BOOST_TEST_REQUIRE(std::string{"89ab"}.find(id[19]) != std::string::npos);
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 10000u);
}

BOOST_AUTO_TEST_SUITE_END()
