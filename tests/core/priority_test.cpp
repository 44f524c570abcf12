// SPDX-License-Identifier: Apache-2.0
// Priority scoring, due-ness and the ranking of suggestions, checked against
// the worked values of the specification and hand-picked boundaries. The
// order properties (strict weak, total on distinct ids) and the agreement of
// due_cutoff with is_due are checked on seeded random samples.

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/priority.hpp"

using namespace catchup;

namespace {

// 2026-03-02T00:00Z, a Monday (checked with `date -u -d @1772409600`).
constexpr unix_seconds monday = 1772409600;
constexpr std::int64_t day = seconds_per_day;

bool near(double actual, double expected, double tolerance) {
  return std::abs(actual - expected) <= tolerance;
}

// Candidates with few distinct values, so that ties in priority and in last
// contact are common.
std::vector<candidate> tied_sample(std::uint64_t seed, std::size_t count) {
  std::mt19937_64 random(seed);
  std::vector<candidate> sample;
  for (std::size_t i = 0; i < count; ++i) {
    std::optional<unix_seconds> last;
    if (random() % 4 != 0)
      last = monday - static_cast<std::int64_t>(random() % 6) * 20 * day;
    std::optional<frequency> pref;
    if (random() % 3 != 0)
      pref = all_frequencies[random() % 3];
    // Distinct ids in an order unrelated to the other fields.
    auto id = std::to_string(1000 + (i * 7919) % 1009);
    sample.push_back(make_candidate(id, "c" + id, last, pref, monday));
  }
  return sample;
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_priority)

BOOST_AUTO_TEST_CASE(worked_values_of_the_specification_are_reproduced) {
  BOOST_TEST(priority(3, frequency::weekly) == 100.0);
  BOOST_TEST(near(priority(40, frequency::monthly), 219.89, 0.01));
  BOOST_TEST(near(priority(30, frequency::weekly), 258.9, 0.01));
  // 100 + 50 * ln 36 = 279.176, which the specification rounds to 279.2.
  BOOST_TEST(near(priority(400, frequency::yearly), 279.18, 0.01));
}

BOOST_AUTO_TEST_CASE(priority_stays_at_100_until_overdue_then_grows) {
  for (auto f : all_frequencies) {
    auto t = threshold_days(f);
    BOOST_TEST(priority(t, f) == 100.0);
    BOOST_TEST(priority(-5, f) == 100.0);
    BOOST_TEST(near(priority(t + 1, f), 100.0 + 50.0 * std::log(2.0), 1e-9));
    BOOST_TEST(priority(t + 2, f) > priority(t + 1, f));
  }
  // No overflow at the extremes of the day count.
  auto lowest = std::numeric_limits<std::int64_t>::min();
  auto highest = std::numeric_limits<std::int64_t>::max();
  BOOST_TEST(priority(lowest, frequency::daily) == 100.0);
  BOOST_TEST(std::isfinite(priority(highest, frequency::daily)));
}

BOOST_AUTO_TEST_CASE(days_since_floors_whole_days_also_backwards) {
  BOOST_TEST(days_since(monday, monday) == 0);
  BOOST_TEST(days_since(monday, monday + day - 1) == 0);
  BOOST_TEST(days_since(monday, monday + day) == 1);
  BOOST_TEST(days_since(monday, monday + day + 1) == 1);
  BOOST_TEST(days_since(monday, monday + 47 * day + 3600) == 47);
  // A last contact in the future: floor, not truncation toward zero.
  BOOST_TEST(days_since(monday, monday - 1) == -1);
  BOOST_TEST(days_since(monday, monday - day) == -1);
  BOOST_TEST(days_since(monday, monday - day - 1) == -2);
  // Negative instants (before 1970) floor the same way.
  BOOST_TEST(days_since(-1, 0) == 0);
  BOOST_TEST(days_since(-day - 1, 0) == 1);
  BOOST_TEST(days_since(0, -1) == -1);
}

BOOST_AUTO_TEST_CASE(never_contacted_counts_from_the_epoch) {
  BOOST_TEST(days_since(std::nullopt, 0) == 0);
  BOOST_TEST(days_since(std::nullopt, 10 * day + 5) == 10);
  // 2026-03-02 is day 20514 of the Unix epoch.
  BOOST_TEST(days_since(std::nullopt, monday) == 20514);
  BOOST_TEST(days_since(std::nullopt, -1) == -1);
}

BOOST_AUTO_TEST_CASE(days_since_is_exact_at_the_extremes) {
  auto lowest = std::numeric_limits<unix_seconds>::min();
  auto highest = std::numeric_limits<unix_seconds>::max();
  // floor((2^64 - 1) / 86400), computed with Python's integers.
  BOOST_TEST(days_since(lowest, highest) == 213503982334601);
  BOOST_TEST(days_since(highest, lowest) == -213503982334602);
}

BOOST_AUTO_TEST_CASE(a_contact_is_due_from_the_threshold_day_on) {
  for (auto f : all_frequencies) {
    auto t = threshold_days(f);
    BOOST_TEST(is_due(t, f));
    BOOST_TEST(is_due(t + 1, f));
    BOOST_TEST(!is_due(t - 1, f));
  }
  BOOST_TEST(!is_due(6, frequency::weekly));
  BOOST_TEST(is_due(7, frequency::weekly));
}

BOOST_AUTO_TEST_CASE(due_cutoff_agrees_with_is_due) {
  std::mt19937_64 random(20260302);
  for (int i = 0; i < 20000; ++i) {
    auto f = all_frequencies[random() % all_frequencies.size()];
    auto now = monday + static_cast<std::int64_t>(random() % (400 * day));
    auto cutoff = due_cutoff(f, now);
    BOOST_TEST_REQUIRE(cutoff == now - threshold_days(f) * day);
    // Around the cutoff, where an off-by-one would show, and far from it.
    auto offset = static_cast<std::int64_t>(random() % (3 * day)) -
                  static_cast<std::int64_t>(1.5 * day);
    for (auto last : {cutoff - 1, cutoff, cutoff + 1, cutoff + offset,
                      now - static_cast<std::int64_t>(random() % (800 * day))})
      BOOST_TEST_REQUIRE(is_due(days_since(last, now), f) == (last <= cutoff));
  }
  // Saturates instead of overflowing.
  auto lowest = std::numeric_limits<unix_seconds>::min();
  BOOST_TEST(due_cutoff(frequency::yearly, lowest + 5) == lowest);
}

BOOST_AUTO_TEST_CASE(make_candidate_scores_a_missing_preference_as_monthly) {
  auto c = make_candidate("0b8e", "Ana", monday - 40 * day, std::nullopt,
                          monday);
  BOOST_TEST(c.contact_id == "0b8e");
  BOOST_TEST(c.name == "Ana");
  BOOST_TEST(c.days == 40);
  BOOST_TEST(c.priority == priority(40, frequency::monthly));
  auto weekly = make_candidate("1", "Bo", monday - 30 * day + 1,
                               frequency::weekly, monday);
  BOOST_TEST(weekly.days == 29);
  BOOST_TEST(weekly.priority == priority(29, frequency::weekly));
  auto never = make_candidate("2", "Cy", std::nullopt, std::nullopt, monday);
  BOOST_TEST(never.days == 20514);
}

BOOST_AUTO_TEST_CASE(higher_priority_ranks_first) {
  auto overdue = make_candidate("b", "B", monday - 40 * day, std::nullopt,
                                monday);
  auto fresh = make_candidate("a", "A", monday - 3 * day, std::nullopt,
                              monday);
  BOOST_TEST(ranks_before(overdue, fresh));
  BOOST_TEST(!ranks_before(fresh, overdue));
}

BOOST_AUTO_TEST_CASE(the_earlier_due_reference_ranks_first_at_equal_score) {
  // Both not yet overdue, so both score 0 (priority 100): the one whose
  // cadence started counting earlier (added before the other's last
  // contact) goes first.
  contact_cadence yearly;
  yearly.days = 365;
  auto never = make_candidate("ffff", "N", std::nullopt, monday - 5 * day,
                              yearly, monday);
  auto recent = make_candidate("0000", "R", monday - day, 0, yearly, monday);
  BOOST_REQUIRE(never.score == recent.score);
  BOOST_TEST(ranks_before(never, recent));
  BOOST_TEST(!ranks_before(recent, never));
  // Among contacted ones at equal score, the earlier contact first.
  auto older = make_candidate("ffff", "O", monday - 2 * day, frequency::weekly,
                              monday);
  auto newer = make_candidate("0000", "W", monday - day, frequency::weekly,
                              monday);
  BOOST_REQUIRE(older.priority == newer.priority);
  BOOST_TEST(ranks_before(older, newer));
  BOOST_TEST(!ranks_before(newer, older));
}

BOOST_AUTO_TEST_CASE(a_new_contact_is_due_one_cadence_after_it_was_added) {
  contact_cadence monthly;
  auto added = monday - 29 * day;
  auto c = make_candidate("1", "Ana", std::nullopt, added, monthly, monday);
  BOOST_TEST(c.days == 29);
  BOOST_TEST(c.score == 0);
  c = make_candidate("1", "Ana", std::nullopt, added, monthly,
                     monday + 3 * day);
  BOOST_TEST(c.days == 32);
  BOOST_TEST(c.score == 2 * neutral_weight_quarters);
  BOOST_TEST(reason_text(c)
             == "You haven't caught up with Ana since you added them 32 days "
                "ago \u2014 with no preference set, monthly catch-ups are the "
                "default.");
}

BOOST_AUTO_TEST_CASE(importance_weighs_the_days_overdue) {
  contact_cadence inner;
  inner.days = 7;
  inner.source = cadence_source::contact;
  inner.weight_quarters = importance_weight_quarters("inner");
  contact_cadence plain = inner;
  plain.weight_quarters = importance_weight_quarters("");
  // Inner 5 days overdue (score 40) beats no circle 9 days overdue (36).
  auto ana = make_candidate("b", "Ana", monday - 12 * day, 0, inner, monday);
  auto bo = make_candidate("a", "Bo", monday - 16 * day, 0, plain, monday);
  BOOST_TEST(ana.score == 40);
  BOOST_TEST(bo.score == 36);
  BOOST_TEST(ranks_before(ana, bo));
  BOOST_TEST(ana.priority == 100 + 50 * std::log1p(10.0));
  BOOST_TEST(reason_text(ana)
             == "It's been 12 days since you caught up with Ana (inner "
                "circle) \u2014 you wanted weekly catch-ups.");
  BOOST_TEST(importance_weight_quarters("close") == 6);
  BOOST_TEST(importance_weight_quarters("active") == 5);
  BOOST_TEST(importance_weight_quarters("casual") == 3);
  // Custom and group cadences say where they come from.
  inner.days = 45;
  inner.weight_quarters = 4;
  BOOST_TEST(reason_text(make_candidate("c", "Cy", monday - 50 * day, 0,
                                        inner, monday))
             == "It's been 50 days since you caught up with Cy \u2014 you "
                "wanted catch-ups every 45 days.");
  inner.source = cadence_source::group;
  BOOST_TEST(reason_text(make_candidate("c", "Cy", monday - 50 * day, 0,
                                        inner, monday))
             == "It's been 50 days since you caught up with Cy \u2014 a "
                "group of theirs wants catch-ups every 45 days.");
}

BOOST_AUTO_TEST_CASE(contact_id_breaks_remaining_ties) {
  auto a = make_candidate("0f3a4b1c-0000-4000-8000-000000000001", "X",
                          monday - day, frequency::weekly, monday);
  auto b = a;
  b.contact_id = "0f3a4b1c-0000-4000-8000-000000000002";
  BOOST_TEST(ranks_before(a, b));
  BOOST_TEST(!ranks_before(b, a));
  BOOST_TEST(!ranks_before(a, a));
}

BOOST_AUTO_TEST_CASE(ranks_before_is_a_strict_total_order_on_random_samples) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    auto s = tied_sample(seed, 70);
    for (std::size_t i = 0; i < s.size(); ++i) {
      BOOST_TEST_REQUIRE(!ranks_before(s[i], s[i]));
      for (std::size_t j = 0; j < s.size(); ++j) {
        if (i == j)
          continue;
        // Distinct ids: exactly one of the two ranks before the other.
        BOOST_TEST_REQUIRE(ranks_before(s[i], s[j]) !=
                           ranks_before(s[j], s[i]));
        if (!ranks_before(s[i], s[j]))
          continue;
        for (std::size_t k = 0; k < s.size(); ++k)
          if (ranks_before(s[j], s[k]))
            BOOST_TEST_REQUIRE(ranks_before(s[i], s[k]));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(reason_text_names_the_gap_and_the_wish) {
  auto c = make_candidate("1", "Ana", monday - 47 * day, frequency::monthly,
                          monday);
  BOOST_TEST(reason_text(c) ==
             "It's been 47 days since you caught up with Ana \u2014 you "
             "wanted monthly catch-ups.");
  c = make_candidate("1", "Ana", std::nullopt, frequency::weekly, monday);
  BOOST_TEST(reason_text(c) ==
             "You haven't caught up with Ana yet \u2014 you wanted weekly "
             "catch-ups.");
  c = make_candidate("1", "Ana", monday - 47 * day, std::nullopt, monday);
  BOOST_TEST(reason_text(c) ==
             "It's been 47 days since you caught up with Ana \u2014 with no "
             "preference set, monthly catch-ups are the default.");
  c = make_candidate("1", "Ana", monday - day, frequency::biweekly, monday);
  BOOST_TEST(reason_text(c) ==
             "It's been 1 day since you caught up with Ana \u2014 you wanted "
             "catch-ups every two weeks.");
  c = make_candidate("1", "Ana", monday - 60, frequency::daily, monday);
  BOOST_TEST(reason_text(c) ==
             "You caught up with Ana today \u2014 you wanted daily "
             "catch-ups.");
  c = make_candidate("1", "Ana", monday + 60, frequency::yearly, monday);
  BOOST_TEST(reason_text(c) ==
             "Your last catch-up with Ana is dated in the future \u2014 you "
             "wanted yearly catch-ups.");
}

BOOST_AUTO_TEST_CASE(reason_text_passes_a_utf8_name_through_untouched) {
  // "Zoë 李" and an emoji, spelled as bytes.
  std::string name = "Zo\xC3\xAB \xE6\x9D\x8E \xF0\x9F\x8C\xBB";
  auto c = make_candidate("1", name, std::nullopt, std::nullopt, monday);
  BOOST_TEST(reason_text(c) ==
             "You haven't caught up with " + name +
                 " yet \xE2\x80\x94 with no preference set, monthly "
                 "catch-ups are the default.");
  for (auto f : all_frequencies) {
    c.cadence.preference = f;
    c.cadence.source = cadence_source::contact;
    auto text = reason_text(c);
    BOOST_TEST(text.find(name) != std::string::npos);
    BOOST_TEST(text.back() == '.');
  }
}

BOOST_AUTO_TEST_SUITE_END()
