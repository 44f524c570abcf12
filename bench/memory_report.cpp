// SPDX-License-Identifier: Apache-2.0
#include "bench/memory_report.hpp"

#include <algorithm>

#include "core/memory.hpp"

namespace catchup::bench {

heap_peak_sampler::heap_peak_sampler()
  : thread_([this] {
      while (!done_) {
        peak_ = std::max<std::int64_t>(
          peak_, process_memory_probe::allocated_bytes());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }) {
  // nop
}

heap_peak_sampler::~heap_peak_sampler() {
  stop();
}

std::int64_t heap_peak_sampler::stop() {
  if (thread_.joinable()) {
    done_ = true;
    thread_.join();
  }
  return peak_;
}

nlohmann::json metrics_json(const std::vector<metric_reading>& readings) {
  auto out = nlohmann::json::object();
  for (auto& m : readings) {
    if (m.type != metric_type::histogram) {
      out[m.name] = m.value;
      continue;
    }
    auto buckets = nlohmann::json::array();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < m.bucket_counts.size(); ++i) {
      cumulative += m.bucket_counts[i];
      nlohmann::json le = i < m.upper_bounds.size()
                            ? nlohmann::json(m.upper_bounds[i])
                            : nlohmann::json("+Inf");
      buckets.push_back({{"le", le}, {"count", cumulative}});
    }
    out[m.name] = {{"count", m.count}, {"sum", m.sum}, {"buckets", buckets}};
  }
  return out;
}

} // namespace catchup::bench
