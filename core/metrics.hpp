// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace catchup {

class metrics_registry;

/// What a metric measures, as Prometheus names it.
enum class metric_kind : std::uint8_t {
  counter,
  gauge,
  histogram,
};

/// "counter", "gauge", "histogram": the word of a `# TYPE` line.
std::string_view to_string(metric_kind kind) noexcept;

/// Bucket upper bounds for durations in seconds (Prometheus' base unit;
/// promtool rejects "_ms" names): 0.001, 0.002, 0.005, ... 5, 10. Roughly
/// doubling steps from 1 ms to 10 s give a usable quantile estimate from a
/// query answered from cache to a generation stalled on the database.
std::vector<double> default_duration_buckets_seconds();

/// Bucket upper bounds for sizes in bytes: powers of 4 from 16 KiB to 1 GiB
/// (16 KiB, 64 KiB, 256 KiB, 1 MiB, ... 1 GiB), nine buckets that span a
/// small batch to the whole memory budget of a small host.
std::vector<double> default_size_buckets_bytes();

/// What every metric has: a name and a one-line help text, fixed at
/// registration. Metrics are made only by a `metrics_registry`, which owns
/// them and never moves them, so references to them stay valid as long as
/// the registry lives.
class metric {
public:
  metric(const metric&) = delete;
  metric& operator=(const metric&) = delete;
  virtual ~metric() = default;

  const std::string& name() const noexcept {
    return name_;
  }

  const std::string& help() const noexcept {
    return help_;
  }

  metric_kind kind() const noexcept {
    return kind_;
  }

protected:
  metric(std::string_view name, std::string_view help, metric_kind kind);

private:
  std::string name_;
  std::string help_;
  metric_kind kind_;
};

/// A total that only grows (requests served, rows read). Updates are one
/// relaxed atomic add, so any number of threads may update it at once.
class counter : public metric {
public:
  /// Adds `n`; a negative `n` is ignored, as a counter never goes down.
  void add(std::int64_t n = 1) noexcept {
    if (n > 0)
      value_.fetch_add(n, std::memory_order_relaxed);
  }

  std::int64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

private:
  friend class metrics_registry;
  counter(std::string_view name, std::string_view help);

  std::atomic<std::int64_t> value_{0};
};

/// A value that goes up and down (queue length, memory in use). Lock-free:
/// `set` is an atomic store, `add` a compare-and-swap loop.
class gauge : public metric {
public:
  void set(double v) noexcept {
    value_.store(v, std::memory_order_relaxed);
  }

  /// Adds `delta` (negative to subtract).
  void add(double delta) noexcept;

  double value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

private:
  friend class metrics_registry;
  gauge(std::string_view name, std::string_view help);

  std::atomic<double> value_{0};
};

/// The distribution of observed values (durations, sizes) in buckets with
/// fixed upper bounds, plus an implicit last bucket up to +Inf. A value
/// equal to a bound falls in that bound's bucket (Prometheus `le`, "less or
/// equal"); NaN falls in the +Inf bucket. Lock-free: an observation is one
/// atomic add on its bucket and a compare-and-swap loop on the sum.
class histogram : public metric {
public:
  /// Records one observation.
  void observe(double v) noexcept;

  /// The upper bounds given at registration (strictly ascending, finite);
  /// the +Inf bound is not listed.
  const std::vector<double>& upper_bounds() const noexcept {
    return upper_bounds_;
  }

  /// Observations per bucket, NOT cumulative: element i counts values in
  /// (upper_bounds()[i-1], upper_bounds()[i]]; the last element is the +Inf
  /// bucket, so there are upper_bounds().size() + 1 elements.
  std::vector<std::uint64_t> bucket_counts() const;

  /// All observations: the sum of `bucket_counts()`.
  std::uint64_t count() const noexcept;

  /// The sum of all observed values.
  double sum() const noexcept {
    return sum_.load(std::memory_order_relaxed);
  }

private:
  friend class metrics_registry;
  histogram(std::string_view name, std::string_view help,
            std::vector<double> upper_bounds);

  std::vector<double> upper_bounds_;
  // One more than upper_bounds_: the last is the +Inf bucket. Sized once,
  // never resized, so the atomics never move.
  std::vector<std::atomic<std::uint64_t>> buckets_;
  std::atomic<double> sum_{0};
};

/// A plain copy of one metric at the moment of `metrics_registry::snapshot`,
/// for rendering or tests without touching the live atomics.
struct metric_snapshot {
  std::string name;
  std::string help;
  metric_kind kind = metric_kind::counter;
  /// A counter's total or a gauge's value; 0 for a histogram. (A counter's
  /// int64 total is exact in a double up to 2^53, about 9 * 10^15.)
  double value = 0;
  /// Histogram only: the finite upper bounds, +Inf not listed.
  std::vector<double> upper_bounds;
  /// Histogram only: observations per bucket, NOT cumulative (as
  /// `histogram::bucket_counts`); the last element is the +Inf bucket.
  std::vector<std::uint64_t> bucket_counts;
  /// Histogram only: the sum of `bucket_counts`, so it always equals the
  /// cumulative +Inf bucket.
  std::uint64_t count = 0;
  /// Histogram only: the sum of observed values. Read apart from the
  /// buckets, so under concurrent observations it may include a value the
  /// buckets do not yet show, or miss one they do.
  double sum = 0;
};

/// The metrics of the process, by name. Registration takes a mutex and is
/// meant to happen once per metric (at actor start-up); updates through the
/// returned references are lock-free atomics and may come from any number of
/// threads at once.
///
/// Names must match [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus metric names).
/// Registering a name again with the same kind returns the metric already
/// registered (the help text given first stays); with another kind, or for
/// a histogram with other upper bounds, it throws std::invalid_argument.
class metrics_registry {
public:
  metrics_registry() = default;
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// The counter `name`, registered on first use.
  counter& counter_named(std::string_view name, std::string_view help);

  /// The gauge `name`, registered on first use.
  gauge& gauge_named(std::string_view name, std::string_view help);

  /// The histogram `name` with `upper_bounds` (strictly ascending and
  /// finite, else std::invalid_argument; +Inf is implicit), registered on
  /// first use.
  histogram& histogram_named(std::string_view name, std::string_view help,
                             std::vector<double> upper_bounds);

  /// The number of metrics registered.
  std::size_t size() const;

  /// Every metric, in registration order.
  std::vector<metric_snapshot> snapshot() const;

  /// Every metric in the Prometheus text exposition format 0.0.4, in
  /// registration order: `# HELP`, `# TYPE` and the sample lines; a
  /// histogram as cumulative `name_bucket{le="..."}` lines ending with
  /// le="+Inf", then `name_sum` and `name_count`. Empty with no metrics.
  std::string render_prometheus() const;

private:
  // Checks the name and the kind of an existing metric; returns it, or
  // nullptr when the name is new. Called with mutex_ held.
  metric* find(std::string_view name, metric_kind kind) const;
  // Takes ownership of `m` and indexes it. Called with mutex_ held.
  void add(std::unique_ptr<metric> m);

  mutable std::mutex mutex_;
  // Registration order; unique_ptr keeps every metric at its address.
  std::vector<std::unique_ptr<metric>> metrics_;
  std::map<std::string, metric*, std::less<>> by_name_;
};

} // namespace catchup
