// SPDX-License-Identifier: Apache-2.0
// Pressure levels with hysteresis, the policy table, and the leak detector
// (steady growth is a leak, a sawtooth is not).

#include <boost/test/unit_test.hpp>

#include <optional>

#include <cmath>
#include <ostream>

#include "core/pressure.hpp"

using namespace catchup;

namespace catchup {
std::ostream& operator<<(std::ostream& out, pressure_level level) {
  return out << to_string(level);
}
} // namespace catchup

BOOST_AUTO_TEST_SUITE(core_pressure)

BOOST_AUTO_TEST_CASE(levels_rise_at_60_70_and_the_critical_percent) {
  pressure_classifier c{80};
  BOOST_TEST(c.update(59.9) == pressure_level::normal);
  BOOST_TEST(c.update(60) == pressure_level::elevated);
  BOOST_TEST(c.update(69.9) == pressure_level::elevated);
  BOOST_TEST(c.update(70) == pressure_level::high);
  BOOST_TEST(c.update(79.9) == pressure_level::high);
  BOOST_TEST(c.update(80) == pressure_level::critical);
  pressure_classifier jump{90};
  BOOST_TEST(jump.update(85) == pressure_level::high);
  BOOST_TEST(jump.update(95) == pressure_level::critical);
}

BOOST_AUTO_TEST_CASE(a_level_is_left_only_five_points_below_its_entry) {
  pressure_classifier c{80};
  c.update(85);
  BOOST_TEST(c.update(75.1) == pressure_level::critical);
  BOOST_TEST(c.update(74.9) == pressure_level::high);
  BOOST_TEST(c.update(65.1) == pressure_level::high);
  BOOST_TEST(c.update(64.9) == pressure_level::elevated);
  BOOST_TEST(c.update(55.1) == pressure_level::elevated);
  BOOST_TEST(c.update(54.9) == pressure_level::normal);
  // Hovering at a threshold does not flap.
  for (double x : {60.0, 59.0, 60.5, 58.0, 61.0})
    BOOST_TEST(c.update(x) == pressure_level::elevated);
  // A deep fall steps down through every level at once.
  c.update(90);
  BOOST_TEST(c.update(10) == pressure_level::normal);
  // Falling into the middle of a band lands on that band's level.
  c.update(90);
  BOOST_TEST(c.update(62) == pressure_level::elevated);
}

BOOST_AUTO_TEST_CASE(the_policy_table_shrinks_batches_caps_caches_and_work) {
  struct row {
    pressure_level level;
    std::size_t batch;
    std::size_t cap;
    int cache;
    int concurrency;
    int import_page;
  };
  const pressure_policy_table defaults;
  for (auto r : {row{pressure_level::normal, 100, 50, 100, 100, 100},
                 row{pressure_level::elevated, 50, 25, 75, 100, 50},
                 row{pressure_level::high, 25, 10, 50, 50, 25},
                 row{pressure_level::critical, 25, 10, 10, 0, 0}}) {
    const auto& p = defaults.at(r.level);
    BOOST_TEST(p.batch_rows_max == r.batch, r.level);
    BOOST_TEST(p.suggestions_max == r.cap, r.level);
    BOOST_TEST(p.cache_capacity_percent == r.cache, r.level);
    BOOST_TEST(p.concurrency_percent == r.concurrency, r.level);
    BOOST_TEST(p.import_page_percent == r.import_page, r.level);
  }
  // Tiny configured sizes never shrink to zero.
  const pressure_policy_table tiny{1, 1};
  BOOST_TEST(tiny.at(pressure_level::critical).batch_rows_max == 1u);
  BOOST_TEST(tiny.at(pressure_level::critical).suggestions_max == 1u);
  // A level this version does not know gets the most restrictive row.
  BOOST_TEST(defaults.at(static_cast<pressure_level>(7)).concurrency_percent
             == 0);
}

BOOST_AUTO_TEST_CASE(the_policy_table_follows_the_configured_sizes) {
  const pressure_policy_table t{40, 20};
  BOOST_TEST(t.at(pressure_level::normal).batch_rows_max == 40u);
  BOOST_TEST(t.at(pressure_level::elevated).batch_rows_max == 20u);
  BOOST_TEST(t.at(pressure_level::high).batch_rows_max == 10u);
  BOOST_TEST(t.at(pressure_level::critical).batch_rows_max == 10u);
  BOOST_TEST(t.at(pressure_level::normal).suggestions_max == 20u);
  BOOST_TEST(t.at(pressure_level::elevated).suggestions_max == 10u);
  BOOST_TEST(t.at(pressure_level::high).suggestions_max == 4u);
  // Shares do not depend on the configured sizes.
  for (auto level : {pressure_level::normal, pressure_level::elevated,
                     pressure_level::high, pressure_level::critical}) {
    BOOST_TEST(t.at(level).cache_capacity_percent
               == pressure_policy_table{}.at(level).cache_capacity_percent);
    BOOST_TEST(t.at(level).concurrency_percent
               == pressure_policy_table{}.at(level).concurrency_percent);
  }
}

BOOST_AUTO_TEST_CASE(import_pages_take_the_levels_share_of_their_size) {
  // The same nominal steps whatever the batch size: a batch of 1 or 3
  // rows, whose rounded halves are not halves, still halves pages.
  for (auto batch : {std::size_t{100}, std::size_t{40}, std::size_t{3},
                     std::size_t{1}}) {
    const pressure_policy_table t{batch, 50};
    BOOST_TEST(t.import_page_items(pressure_level::normal, 40) == 40u, batch);
    BOOST_TEST(t.import_page_items(pressure_level::elevated, 40) == 20u, batch);
    BOOST_TEST(t.import_page_items(pressure_level::high, 40) == 10u, batch);
    // Critical starts no page.
    BOOST_TEST(t.import_page_items(pressure_level::critical, 40) == 0u, batch);
  }
  const pressure_policy_table t;
  // At least one item below critical.
  BOOST_TEST(t.import_page_items(pressure_level::high, 3) == 1u);
  BOOST_TEST(t.import_page_items(pressure_level::normal, 0) == 1u);
  BOOST_TEST(t.import_page_items(pressure_level::high, 8) == 2u);
  BOOST_TEST(t.import_page_items(pressure_level::elevated, 7) == 3u);
}

BOOST_AUTO_TEST_CASE(steady_growth_is_a_leak) {
  leak_detector d{60, 1.5};
  for (int i = 0; i < 60; ++i) {
    BOOST_TEST(!d.check().leak); // not before the window is full
    d.add(100'000'000 + i * 2'000'000);
  }
  auto v = d.check();
  BOOST_TEST(v.leak);
  BOOST_TEST(v.first_bytes == 100'000'000);
  BOOST_TEST(v.last_bytes == 218'000'000);
  BOOST_TEST(std::abs(v.slope_bytes - 2'000'000) < 1);
}

BOOST_AUTO_TEST_CASE(a_sawtooth_ending_high_is_not_a_leak) {
  // Rises 100 -> 160 MB in ten samples, falls back, six times: the last
  // sample is 1.6 times the first, but nothing grows.
  leak_detector d{60, 1.5};
  for (int i = 0; i < 60; ++i)
    d.add(100'000'000 + (i % 10) * 6'666'667);
  auto v = d.check();
  BOOST_TEST(v.growth > 1.5);
  BOOST_TEST(!v.leak);
}

BOOST_AUTO_TEST_CASE(two_teeth_of_a_sawtooth_are_not_a_leak) {
  // 100..190 twice: the slope is positive and its trend over the window
  // reaches half the first-to-last rise, but the line explains a quarter
  // of the variance.
  leak_detector d{20, 1.5};
  for (int i = 0; i < 20; ++i)
    d.add(100 + (i % 10) * 10);
  auto v = d.check();
  BOOST_TEST(v.growth == 1.9);
  BOOST_TEST(v.slope_bytes > 0);
  BOOST_TEST(v.r_squared < 0.3);
  BOOST_TEST(!v.leak);
}

BOOST_AUTO_TEST_CASE(growth_under_a_sawtooth_is_a_leak) {
  // A rising floor with periodic drops, as a heap that leaks between
  // collections looks.
  leak_detector d{60, 1.5};
  for (int i = 0; i < 60; ++i)
    d.add(100 + 5 * i + 40 * (i % 5));
  auto v = d.check();
  BOOST_TEST(v.r_squared > 0.6);
  BOOST_TEST(v.leak);
}

BOOST_AUTO_TEST_CASE(flat_or_small_growth_is_not_a_leak) {
  leak_detector flat{10, 1.5};
  leak_detector slow{10, 1.5};
  for (int i = 0; i < 20; ++i) {
    flat.add(50'000'000);
    slow.add(50'000'000 + i * 1'000'000); // +18% over the window
  }
  BOOST_TEST(!flat.check().leak);
  BOOST_TEST(!slow.check().leak);
  BOOST_TEST(slow.size() == 10u);
}

BOOST_AUTO_TEST_CASE(a_node_claims_by_its_level_and_its_peers) {
  using L = pressure_level;
  const pressure_policy_table table;
  std::optional<L> alone;
  // Alone: full, full, half (at least one), none.
  BOOST_TEST(claim_capacity(L::normal, alone, 8, table) == 8u);
  BOOST_TEST(claim_capacity(L::elevated, alone, 8, table) == 8u);
  BOOST_TEST(claim_capacity(L::high, alone, 8, table) == 4u);
  BOOST_TEST(claim_capacity(L::high, alone, 1, table) == 1u);
  BOOST_TEST(claim_capacity(L::critical, alone, 8, table) == 0u);
  // At high, nothing new while a peer below high can take it.
  BOOST_TEST(claim_capacity(L::high, L::normal, 8, table) == 0u);
  BOOST_TEST(claim_capacity(L::high, L::elevated, 8, table) == 0u);
  // Peers as pressed as this node: it keeps its share of the work.
  BOOST_TEST(claim_capacity(L::high, L::high, 8, table) == 4u);
  BOOST_TEST(claim_capacity(L::high, L::critical, 8, table) == 4u);
  // Peers never make a node below high claim less, nor a critical one more.
  BOOST_TEST(claim_capacity(L::elevated, L::normal, 8, table) == 8u);
  BOOST_TEST(claim_capacity(L::critical, L::normal, 8, table) == 0u);
}

BOOST_AUTO_TEST_CASE(routing_prefers_the_lower_level_then_less_heap_then_fewer_jobs) {
  using L = pressure_level;
  route_candidate calm{L::normal, 55, 8};
  route_candidate warm{L::elevated, 61, 0};
  BOOST_TEST(less_pressured(calm, warm));
  BOOST_TEST(!less_pressured(warm, calm));
  route_candidate roomy{L::normal, 10, 8};
  BOOST_TEST(less_pressured(roomy, calm));
  // Less than a point apart is a tie; then jobs in flight decide.
  route_candidate idle{L::normal, 10.9, 0};
  BOOST_TEST(less_pressured(idle, roomy));
  BOOST_TEST(!less_pressured(roomy, idle));
  // A full tie is not "less", so a stable sort keeps the caller first.
  BOOST_TEST(!less_pressured(idle, idle));
}

BOOST_AUTO_TEST_SUITE_END()
