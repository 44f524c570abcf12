// SPDX-License-Identifier: Apache-2.0
// Bounded top-K selection of candidates under ranks_before. Random offers
// (many seeds and K values, with frequent ties) are compared with a full
// std::sort of everything offered; shrink and the size bound are checked
// along the way.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/top_k.hpp"

using namespace catchup;

namespace {

// 2026-03-02T00:00Z.
constexpr unix_seconds now = 1772409600;
constexpr std::int64_t day = seconds_per_day;

// `count` candidates with distinct ids and few distinct priorities and last
// contacts, so that every tie-break is exercised.
std::vector<candidate> random_candidates(std::mt19937_64& random,
                                         std::size_t count) {
  std::vector<candidate> all;
  for (std::size_t i = 0; i < count; ++i) {
    std::optional<unix_seconds> last;
    if (random() % 5 != 0)
      last = now - static_cast<std::int64_t>(random() % 4) * 10 * day;
    std::optional<frequency> pref;
    if (random() % 2 != 0)
      pref = random() % 2 ? frequency::weekly : frequency::monthly;
    // Ids in an order unrelated to the offering order.
    auto id = "id" + std::to_string((i * 7919 + 17) % 100003);
    all.push_back(make_candidate(id, "n" + id, last, pref, now));
  }
  return all;
}

std::vector<std::string> ids(const std::vector<candidate>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs)
    out.push_back(c.contact_id);
  return out;
}

// The first `k` of `all` after a full sort: what top_k must return.
std::vector<std::string> expected_best(std::vector<candidate> all,
                                       std::size_t k) {
  std::sort(all.begin(), all.end(), ranks_before);
  all.resize(std::min(k, all.size()));
  return ids(all);
}

candidate with_days(const std::string& id, std::int64_t days) {
  return make_candidate(id, id, now - days * day, frequency::weekly, now);
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_top_k)

BOOST_AUTO_TEST_CASE(the_kept_candidates_match_a_full_sort) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 random(seed);
    auto all = random_candidates(random, random() % 160);
    for (std::size_t k : {0, 1, 2, 3, 7, 10, 50, 159, 160, 1000}) {
      top_k best(k);
      for (const auto& c : all) {
        best.offer(c);
        BOOST_TEST_REQUIRE(best.size() <= k);
        BOOST_TEST_REQUIRE(best.capacity() == k);
      }
      BOOST_TEST_REQUIRE(best.size() == std::min(k, all.size()));
      auto expected = expected_best(all, k);
      if (!expected.empty()) {
        BOOST_TEST_REQUIRE(best.worst() != nullptr);
        BOOST_TEST_REQUIRE(best.worst()->contact_id == expected.back());
      }
      auto got = ids(best.take_sorted());
      BOOST_TEST_REQUIRE(got == expected, "seed " << seed << ", k " << k);
      BOOST_TEST_REQUIRE(best.size() == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(offer_reports_whether_the_candidate_was_kept) {
  top_k best(2);
  BOOST_TEST(!best.full());
  BOOST_TEST(best.worst() == nullptr);
  BOOST_TEST(best.offer(with_days("a", 20)));
  BOOST_TEST(best.offer(with_days("b", 10)));
  BOOST_TEST(best.full());
  BOOST_TEST(best.worst()->contact_id == "b");
  // Worse than the worst kept: refused, nothing changes.
  BOOST_TEST(!best.offer(with_days("c", 9)));
  BOOST_TEST(best.worst()->contact_id == "b");
  // Better: kept, and the former worst is dropped.
  BOOST_TEST(best.offer(with_days("d", 30)));
  BOOST_TEST(best.size() == 2u);
  BOOST_TEST(best.worst()->contact_id == "a");
  // Equal in every field but the id: the smaller id wins.
  BOOST_TEST(best.offer(with_days("0", 20)));
  BOOST_TEST(!best.offer(with_days("z", 20)));
  BOOST_TEST(ids(best.take_sorted()) == (std::vector<std::string>{"d", "0"}));
}

BOOST_AUTO_TEST_CASE(k_zero_keeps_nothing) {
  top_k none(0);
  BOOST_TEST(none.full());
  BOOST_TEST(!none.offer(with_days("a", 100)));
  BOOST_TEST(none.size() == 0u);
  BOOST_TEST(none.worst() == nullptr);
  BOOST_TEST(none.take_sorted().empty());
}

BOOST_AUTO_TEST_CASE(take_sorted_empties_it_for_reuse) {
  top_k best(3);
  for (int d = 1; d <= 5; ++d)
    best.offer(with_days("x" + std::to_string(d), 10 * d));
  BOOST_TEST(ids(best.take_sorted()) ==
             (std::vector<std::string>{"x5", "x4", "x3"}));
  BOOST_TEST(best.size() == 0u);
  BOOST_TEST(best.capacity() == 3u);
  BOOST_TEST(best.worst() == nullptr);
  BOOST_TEST(best.offer(with_days("y", 1)));
  BOOST_TEST(ids(best.take_sorted()) == (std::vector<std::string>{"y"}));
}

BOOST_AUTO_TEST_CASE(shrink_drops_the_worst_and_lowers_the_cap) {
  for (std::uint64_t seed = 100; seed < 130; ++seed) {
    std::mt19937_64 random(seed);
    auto all = random_candidates(random, 120);
    top_k best(50);
    for (const auto& c : all)
      best.offer(c);
    best.shrink(60);  // Raising K keeps everything.
    BOOST_TEST_REQUIRE(best.size() == 50u);
    best.shrink(8);
    BOOST_TEST_REQUIRE(best.size() == 8u);
    BOOST_TEST_REQUIRE(best.capacity() == 8u);
    BOOST_TEST_REQUIRE(best.full());
    // Later offers respect the new cap; the result is as if K had been 8
    // all along.
    auto more = random_candidates(random, 40);
    for (auto& c : more)
      c.contact_id += "m";
    for (const auto& c : more) {
      best.offer(c);
      BOOST_TEST_REQUIRE(best.size() <= 8u);
    }
    all.insert(all.end(), more.begin(), more.end());
    BOOST_TEST_REQUIRE(ids(best.take_sorted()) == expected_best(all, 8));
  }
  top_k best(4);
  best.offer(with_days("a", 10));
  best.shrink(0);
  BOOST_TEST(best.size() == 0u);
  BOOST_TEST(!best.offer(with_days("b", 99)));
}

BOOST_AUTO_TEST_SUITE_END()
