// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include <catchup/types.hpp>

namespace catchup::app {

/// Records memory readings with their time for a timeline (CSV and a PNG
/// plot) of `catchup generate --all --memory-timeline`. Bounded and
/// allocated once, at construction: when `samples_max` readings are kept
/// it keeps every second one and halves its rate, so a long run still
/// covers its whole duration without the timeline's own growth showing in
/// the heap it records.
class memory_timeline {
public:
  explicit memory_timeline(std::size_t samples_max = 4096);

  /// Thread-safe; called on the engine's sampling thread.
  void record(const memory_snapshot& x);

  struct point {
    double elapsed_ms = 0;
    memory_snapshot memory;
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
