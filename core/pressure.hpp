// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace catchup {

/// How close the process is to its memory budget.
enum class pressure_level : std::uint8_t {
  normal = 0,
  elevated = 1,
  high = 2,
  critical = 3,
};

/// "normal", "elevated", "high", "critical".
std::string_view to_string(pressure_level level) noexcept;

/// What each level allows: the one policy table of the engine.
struct pressure_policy {
  /// Rows per pulled batch.
  std::size_t batch_rows_max;
  /// Suggestions per generation.
  std::size_t suggestions_max;
  /// Cache capacity, in percent of its configured size.
  int cache_capacity_percent;
  /// Share of generation.concurrent_users_max that may run, in percent;
  /// 0 means no new generation starts (the circuit breaker is open).
  int concurrency_percent;
};

/// The policy of `level`, scaled from the configured batch size and cap
/// (100 and 50 by default, giving 100/50/25/25 rows and 50/25/10/10
/// suggestions).
pressure_policy policy_for(pressure_level level, std::size_t batch_rows_max,
                           std::size_t suggestions_max) noexcept;

/// How many jobs a node may have in flight: `jobs_max` at normal and
/// elevated pressure, half at high, none at critical (the concurrency
/// policy). In a cluster a node at high claims nothing new while a peer
/// below high (`lowest_peer_level`, empty without peers) can take the
/// work: memory is scarce here, not there.
std::size_t claim_capacity(pressure_level own,
                           std::optional<pressure_level> lowest_peer_level,
                           std::size_t jobs_max) noexcept;

/// One candidate for an interactive request: its level, its heap use in
/// percent of its budget and its jobs in flight.
struct route_candidate {
  pressure_level level = pressure_level::normal;
  double used_percent = 0;
  std::int64_t jobs_in_flight = 0;
};

/// True if `a` is less pressured than `b`: lower level first, then less
/// heap use in whole percentage points, then fewer jobs in flight. Ties keep their order, so a caller
/// that lists itself first runs the request without a hop.
bool less_pressured(const route_candidate& a,
                    const route_candidate& b) noexcept;

/// Classifies memory use in percent of the budget into levels:
/// normal < 60 <= elevated < 70 <= high < critical_percent <= critical. A
/// level is left downwards only when use falls `hysteresis_points` below
/// the threshold that entered it, so use hovering at a threshold does not
/// flap between levels.
class pressure_classifier {
public:
  explicit pressure_classifier(double critical_percent = 80,
                               double hysteresis_points = 5) noexcept;

  /// Feeds one reading; returns the (possibly unchanged) level.
  pressure_level update(double used_percent) noexcept;

  pressure_level level() const noexcept {
    return level_;
  }

  /// The percentage at which `level` is entered (0 for normal).
  double entry_percent(pressure_level level) const noexcept;

private:
  double critical_percent_;
  double hysteresis_points_;
  pressure_level level_ = pressure_level::normal;
};

/// Detects steady growth in a window of samples: the newest exceeds the
/// oldest by `growth_ratio` AND the least-squares slope over the whole
/// window is positive beyond noise (its growth over the window is at least
/// half the first-to-last rise, and the line explains at least half the
/// variance). A sawtooth whose last sample happens to sit high over a low
/// first sample fails the second test.
class leak_detector {
public:
  explicit leak_detector(std::size_t samples_max = 60,
                         double growth_ratio = 1.5) noexcept;

  /// Adds a sample (allocated bytes); the oldest drops out when full.
  void add(std::int64_t bytes);

  /// The verdict on the current window (needs a full window).
  struct verdict {
    bool leak = false;
    std::int64_t first_bytes = 0;
    std::int64_t last_bytes = 0;
    /// last / first.
    double growth = 0;
    /// Least-squares slope, bytes per sample.
    double slope_bytes = 0;
    /// Share of the window's variance the straight line explains (0..1).
    double r_squared = 0;
  };

  /// The line must explain at least this share of the variance: steady
  /// growth, even under a sawtooth, scores 0.6 and more; two teeth of a
  /// sawtooth in one window score about 0.25 although their slope is
  /// positive and their last sample is high.
  static constexpr double min_r_squared = 0.5;
  verdict check() const;

  std::size_t size() const noexcept {
    return count_;
  }

  std::size_t capacity() const noexcept {
    return ring_.size();
  }

private:
  std::vector<std::int64_t> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  double growth_ratio_;
};

} // namespace catchup
