// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace catchup {
class engine_core;
}

namespace catchup::app {

/// What the queue bench measured.
struct queue_figures {
  std::int64_t jobs = 0;
  std::int64_t contacts_per_user = 0;
  std::int64_t jobs_max = 0;
  double drain_ms = 0;
  double jobs_per_s = 0;
  /// Enqueue to claimed (state running) for an idle node, over `samples`.
  std::int64_t samples = 0;
  double wake_median_ms = 0;
  double wake_p95_ms = 0;
  double wake_max_ms = 0;
};

/// Seeds `users` users of `contacts_per_user` contacts (kept for later
/// runs), enqueues a generation job for each, and times one node (this
/// engine's worker) draining them; then times enqueue-to-claim for an idle
/// node (NOTIFY wake-up; target under 50 ms).
queue_figures run_queue_bench(engine_core& e, std::int64_t users,
                              std::int64_t contacts_per_user,
                              std::int64_t jobs_max,
                              const std::function<void(const std::string&)>& say);

void print_queue_figures(const queue_figures& f);
nlohmann::json queue_json(const queue_figures& f);

} // namespace catchup::app
