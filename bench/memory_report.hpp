// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <catchup/types.hpp>

namespace catchup::bench {

/// The engine's metrics as JSON: {name: value} for counters and gauges,
/// {name: {count, sum, buckets: [{le, count}]}} (cumulative, as
/// Prometheus) for histograms.
nlohmann::json metrics_json(const std::vector<metric_reading>& readings);

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

} // namespace catchup::bench
