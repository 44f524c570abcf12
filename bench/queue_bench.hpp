// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace catchup {
class engine;
}

namespace catchup::bench {

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

/// The settings the engine of `run_queue_bench` is opened with (its
/// dispatcher reads them): node "bench" taking `jobs_max` jobs at once,
/// polling every second, without the generation schedule.
std::vector<std::pair<std::string, std::string>>
queue_bench_settings(std::int64_t jobs_max);

/// Seeds `users` users of `contacts_per_user` contacts (kept for later
/// runs), enqueues a generation job for each, and times one node (this
/// engine's dispatcher, opened with `queue_bench_settings(jobs_max)`)
/// draining them; then times enqueue-to-claim for an idle node (NOTIFY
/// wake-up; target under 50 ms).
/// @throws failure if the engine fails.
queue_figures run_queue_bench(engine& e, std::int64_t users,
                              std::int64_t contacts_per_user,
                              std::int64_t jobs_max);

void print_queue_figures(const queue_figures& f);
nlohmann::json queue_json(const queue_figures& f);

} // namespace catchup::bench
