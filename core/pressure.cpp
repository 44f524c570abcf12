// SPDX-License-Identifier: Apache-2.0
#include "core/pressure.hpp"

#include "core/assert.hpp"

#include <algorithm>

namespace catchup {

namespace {

constexpr double elevated_percent = 60;
constexpr double high_percent = 70;

} // namespace

std::string_view to_string(pressure_level level) noexcept {
  switch (level) {
    case pressure_level::normal: return "normal";
    case pressure_level::elevated: return "elevated";
    case pressure_level::high: return "high";
    case pressure_level::critical: return "critical";
  }
  return "normal";
}

pressure_policy_table::pressure_policy_table() noexcept
  : pressure_policy_table(100, 50) {
  // nop
}

pressure_policy_table::pressure_policy_table(
  std::size_t batch_rows_max, std::size_t suggestions_max) noexcept {
  // Each step halves the batch (at least 1) and cuts the cap to a half,
  // then a fifth; caches shrink, concurrency and import pages follow.
  auto batch = [&](std::size_t div) {
    return std::max<std::size_t>(1, batch_rows_max / div);
  };
  auto cap = [&](std::size_t div) {
    return std::max<std::size_t>(1, suggestions_max / div);
  };
  rows_[static_cast<std::size_t>(pressure_level::normal)]
    = {batch(1), cap(1), 100, 100, 100};
  rows_[static_cast<std::size_t>(pressure_level::elevated)]
    = {batch(2), cap(2), 75, 100, 50};
  rows_[static_cast<std::size_t>(pressure_level::high)]
    = {batch(4), cap(5), 50, 50, 25};
  rows_[static_cast<std::size_t>(pressure_level::critical)]
    = {batch(4), cap(5), 10, 0, 0};
  // Every consumer relies on a worse level never allowing more, and on a
  // batch and a cap of at least one.
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    CATCHUP_ASSERT(rows_[i].batch_rows_max >= 1, "a batch has a row");
    CATCHUP_ASSERT(rows_[i].suggestions_max >= 1, "a generation has a cap");
    if (i == 0)
      continue;
    const pressure_policy& better = rows_[i - 1];
    const pressure_policy& worse = rows_[i];
    CATCHUP_ASSERT(worse.batch_rows_max <= better.batch_rows_max,
                   "batches never grow with pressure");
    CATCHUP_ASSERT(worse.suggestions_max <= better.suggestions_max,
                   "the suggestion cap never grows with pressure");
    CATCHUP_ASSERT(
      worse.cache_capacity_percent <= better.cache_capacity_percent,
      "caches never grow with pressure");
    CATCHUP_ASSERT(worse.concurrency_percent <= better.concurrency_percent,
                   "concurrency never grows with pressure");
    CATCHUP_ASSERT(worse.import_page_percent <= better.import_page_percent,
                   "import pages never grow with pressure");
  }
}

const pressure_policy&
pressure_policy_table::at(pressure_level level) const noexcept {
  auto i = static_cast<std::size_t>(level);
  // A level from the wire that this version does not know is treated as
  // the most restrictive one.
  return rows_[std::min(i, rows_.size() - 1)];
}

std::size_t
pressure_policy_table::import_page_items(pressure_level level,
                                         std::size_t page_items_max) const
  noexcept {
  auto percent = static_cast<std::size_t>(at(level).import_page_percent);
  if (percent == 0)
    return 0;
  auto n = page_items_max * percent / 100;
  return std::max<std::size_t>(1, n);
}

std::size_t claim_capacity(pressure_level own,
                           std::optional<pressure_level> lowest_peer_level,
                           std::size_t jobs_max,
                           const pressure_policy_table& policy) noexcept {
  if (own >= pressure_level::high && lowest_peer_level
      && *lowest_peer_level < pressure_level::high)
    return 0;
  auto percent = static_cast<std::size_t>(policy.at(own).concurrency_percent);
  auto n = jobs_max * percent / 100;
  // Half of one job is still one job: high pressure slows a node, only
  // critical stops it.
  return percent > 0 && n == 0 ? 1 : n;
}

bool less_pressured(const route_candidate& a,
                    const route_candidate& b) noexcept {
  if (a.level != b.level)
    return a.level < b.level;
  // Whole points: a sliver of heap is no reason to send work elsewhere.
  auto a_points = static_cast<std::int64_t>(a.used_percent);
  auto b_points = static_cast<std::int64_t>(b.used_percent);
  if (a_points != b_points)
    return a_points < b_points;
  return a.jobs_in_flight < b.jobs_in_flight;
}

pressure_classifier::pressure_classifier(double critical_percent,
                                         double hysteresis_points) noexcept
  : critical_percent_(std::max(critical_percent, high_percent + 1)),
    hysteresis_points_(hysteresis_points) {
  // nop
}

double pressure_classifier::entry_percent(pressure_level level) const noexcept {
  switch (level) {
    case pressure_level::normal: return 0;
    case pressure_level::elevated: return elevated_percent;
    case pressure_level::high: return high_percent;
    case pressure_level::critical: return critical_percent_;
  }
  return 0;
}

pressure_level pressure_classifier::update(double used_percent) noexcept {
  // The level the reading alone would give.
  auto raw = pressure_level::normal;
  if (used_percent >= critical_percent_)
    raw = pressure_level::critical;
  else if (used_percent >= high_percent)
    raw = pressure_level::high;
  else if (used_percent >= elevated_percent)
    raw = pressure_level::elevated;
  if (raw >= level_) {
    level_ = raw; // rising (or staying) is immediate
    return level_;
  }
  // Falling: step down while use is clearly below the current level's
  // entry threshold.
  while (level_ > raw
         && used_percent < entry_percent(level_) - hysteresis_points_)
    level_ = static_cast<pressure_level>(static_cast<int>(level_) - 1);
  return level_;
}

leak_detector::leak_detector(std::size_t samples_max,
                             double growth_ratio) noexcept
  : ring_(std::max<std::size_t>(samples_max, 3)), growth_ratio_(growth_ratio) {
  // nop
}

void leak_detector::add(std::int64_t bytes) {
  ring_[next_] = bytes;
  next_ = (next_ + 1) % ring_.size();
  count_ = std::min(count_ + 1, ring_.size());
}

leak_detector::verdict leak_detector::check() const {
  verdict v;
  if (count_ < ring_.size())
    return v;
  auto n = ring_.size();
  auto at = [&](std::size_t i) { // i-th oldest
    return static_cast<double>(ring_[(next_ + i) % n]);
  };
  v.first_bytes = static_cast<std::int64_t>(at(0));
  v.last_bytes = static_cast<std::int64_t>(at(n - 1));
  v.growth = at(0) > 0 ? at(n - 1) / at(0) : 0;
  // Least squares over x = 0..n-1.
  double mean_x = static_cast<double>(n - 1) / 2;
  double mean_y = 0;
  for (std::size_t i = 0; i < n; ++i)
    mean_y += at(i);
  mean_y /= static_cast<double>(n);
  double sxy = 0;
  double sxx = 0;
  double syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto dx = static_cast<double>(i) - mean_x;
    auto dy = at(i) - mean_y;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  v.slope_bytes = sxx > 0 ? sxy / sxx : 0;
  v.r_squared = sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
  auto rise = at(n - 1) - at(0);
  auto trend = v.slope_bytes * static_cast<double>(n - 1);
  v.leak = v.growth >= growth_ratio_ && rise > 0 && trend >= rise / 2
           && v.r_squared >= min_r_squared;
  return v;
}

} // namespace catchup
