// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.hpp"
#include "messages/memory_messages.hpp"

namespace catchup::app {

/// The registry as JSON: {name: value} for counters and gauges, {name:
/// {count, sum, buckets: [{le, count}]}} (cumulative, as Prometheus) for
/// histograms.
nlohmann::json metrics_json(const metrics_registry& registry);

/// Samples the heap every millisecond on its own thread and keeps the
/// highest figure: allocator statistics have no peak of their own.
class heap_peak_sampler {
public:
  heap_peak_sampler();
  ~heap_peak_sampler();
  heap_peak_sampler(const heap_peak_sampler&) = delete;
  heap_peak_sampler& operator=(const heap_peak_sampler&) = delete;
  /// Stops sampling; returns the peak (allocated bytes).
  std::int64_t stop();

private:
  std::atomic<bool> done_{false};
  std::atomic<std::int64_t> peak_{0};
  std::thread thread_;
};

/// Records memory samples with their time for a timeline (CSV and a PNG
/// plot). Bounded and allocated once, at construction: when `samples_max`
/// points are kept it keeps every second one and halves its rate, so a
/// long run still covers its whole duration without the timeline's own
/// growth showing in the heap it records.
class memory_timeline {
public:
  explicit memory_timeline(std::size_t samples_max = 4096);

  /// Thread-safe; called from the memory supervisor.
  void record(const memory_status& x);

  struct point {
    double elapsed_ms = 0;
    memory_status status;
  };
  std::vector<point> points() const;

  /// Writes elapsed_ms,allocated_bytes,resident_bytes,budget_bytes,
  /// used_percent,level,level_name. Throws std::runtime_error naming the
  /// file and the reason when it cannot.
  void write_csv(const std::string& path) const;

  /// Plots the CSV at `csv_path` into `png_path` with gnuplot; returns ""
  /// or why no plot was made (gnuplot missing or failing).
  static std::string plot_png(const std::string& csv_path,
                              const std::string& png_path,
                              const std::string& title,
                              double critical_percent);

private:
  mutable std::mutex mtx_;
  std::chrono::steady_clock::time_point started_;
  std::size_t samples_max_;
  std::size_t stride_ = 1;
  std::size_t seen_ = 0;
  std::vector<point> points_;
};

} // namespace catchup::app
