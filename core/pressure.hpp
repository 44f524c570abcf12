// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
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

/// What one level allows: a row of the pressure policy table.
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
  /// Import and sync page size, in percent of its configured size
  /// (sync.contacts_page_items or sync.events_page_items); 0 means no new
  /// page starts (the run pauses).
  int import_page_percent;
};

/// The engine's one pressure policy: what each level allows, computed once
/// from the configured generation.batch_rows_max and
/// generation.suggestions_max. The engine builds it at start and hands the
/// same table to the repository, the generation coordinator, the cache,
/// the importer and the job dispatcher; none of them derives a policy of
/// its own.
///
/// With the defaults (100 rows, 50 suggestions):
///
///   level      rows  cap  cache%  concurrency%  import page%
///   normal      100   50     100           100           100
///   elevated     50   25      75           100            50
///   high         25   10      50            50            25
///   critical     25   10      10             0             0
///
/// Each step halves the batch (at least 1 row) and cuts the cap to a half,
/// then a fifth (at least 1). Import and sync pages scale by the batch's
/// nominal steps, as percentages of their own configured size
/// (sync.contacts_page_items, sync.events_page_items): 100%, 50%, 25%, at
/// least one item, whatever batch_rows_max is. They do not follow the ratio
/// of the rounded batch sizes, which would not shrink pages at all for a
/// batch of 1 row and cut them to a third at elevated for one of 3 rows.
/// Critical starts no page.
class pressure_policy_table {
public:
  /// The table of the default configuration (100 rows, 50 suggestions).
  pressure_policy_table() noexcept;

  /// The table for the configured batch size and suggestion cap (each at
  /// least 1; 0 counts as 1).
  pressure_policy_table(std::size_t batch_rows_max,
                        std::size_t suggestions_max) noexcept;

  /// The row of `level`.
  const pressure_policy& at(pressure_level level) const noexcept;

  /// Items of an import page at `level` whose configured (normal) size is
  /// `page_items_max`: its import_page_percent share, at least 1; 0 when
  /// the level starts no page (critical).
  std::size_t import_page_items(pressure_level level,
                                std::size_t page_items_max) const noexcept;

private:
  std::array<pressure_policy, 4> rows_;
};

/// How many jobs a node may have in flight: `jobs_max` times the
/// concurrency share of `policy` at `own` (all at normal and elevated, half
/// at high, none at critical). In a cluster a node at high claims nothing
/// new while a peer below high (`lowest_peer_level`, empty without peers)
/// can take the work: memory is scarce here, not there.
std::size_t claim_capacity(pressure_level own,
                           std::optional<pressure_level> lowest_peer_level,
                           std::size_t jobs_max,
                           const pressure_policy_table& policy) noexcept;

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
