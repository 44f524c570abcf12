// SPDX-License-Identifier: Apache-2.0
#include "app/queue_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "actors/engine_core.hpp"
#include "storage/job_queue.hpp"

namespace catchup::app {

namespace {

// 2026-11-01T09:00:00Z, as in the generation scenarios.
constexpr std::int64_t bench_now_unix_s = 1793523600;
constexpr std::uint64_t queue_seed = 9200;
constexpr std::int64_t wake_samples = 20;

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t)
    .count();
}

} // namespace

queue_figures run_queue_bench(engine_core& e, std::int64_t users,
                              std::int64_t contacts_per_user,
                              std::int64_t jobs_max,
                              const std::function<void(const std::string&)>& say) {
  queue_figures f;
  f.contacts_per_user = contacts_per_user;
  f.jobs_max = jobs_max;
  storage::seed_options opts;
  opts.users = users;
  opts.contacts_per_user = contacts_per_user;
  opts.seed = queue_seed;
  opts.now_unix_s = bench_now_unix_s;
  auto ids = e.seeded_users(opts);
  if (ids.empty()) {
    say("bench: seeding the queue data set (" + std::to_string(users)
        + " users x " + std::to_string(contacts_per_user)
        + " contacts); kept for later runs");
    ids = e.seed(opts).user_ids;
  }
  storage::job_queue queue{e.database_url(), e.clock()};
  // Only this bench's jobs: earlier runs' are finished.
  auto payload = "{\"now\": " + std::to_string(bench_now_unix_s) + "}";
  say("bench: enqueueing " + std::to_string(ids.size()) + " generation jobs");
  for (auto& id : ids)
    queue.enqueue("generate", id, payload);
  f.jobs = static_cast<std::int64_t>(ids.size());
  worker_options wo;
  wo.owner = "bench";
  wo.jobs_max = static_cast<std::size_t>(jobs_max);
  wo.generate_interval_ms = 0;
  wo.poll_interval_ms = 1000;
  auto started = clock_type::now();
  auto done_before = e.worker().completed.load();
  e.start_worker(wo);
  say("bench: draining");
  // The bench polls the worker's own counter: no extra database load.
  while (e.worker().completed.load() - done_before
           + e.worker().failed.load()
         < static_cast<std::uint64_t>(f.jobs))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  f.drain_ms = ms_since(started);
  f.jobs_per_s = static_cast<double>(f.jobs) * 1000.0 / f.drain_ms;

  // Idle node: enqueue one job at a time and time until it is running.
  say("bench: enqueue-to-claim latency of an idle node");
  std::vector<double> waits;
  for (std::int64_t i = 0; i < wake_samples; ++i) {
    auto& user = ids[static_cast<std::size_t>(i) % ids.size()];
    auto completed = e.worker().claimed.load();
    auto t = clock_type::now();
    queue.enqueue("generate", user, payload);
    while (e.worker().claimed.load() == completed)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    waits.push_back(ms_since(t));
    // Let it finish, so the next sample starts from an idle node.
    while (e.worker().in_flight.load() > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  e.stop_worker(std::chrono::seconds(30));
  std::sort(waits.begin(), waits.end());
  f.samples = static_cast<std::int64_t>(waits.size());
  f.wake_median_ms = waits[waits.size() / 2];
  f.wake_p95_ms = waits[std::min(waits.size() - 1, waits.size() * 95 / 100)];
  f.wake_max_ms = waits.back();
  return f;
}

void print_queue_figures(const queue_figures& f) {
  std::printf("\nqueue: %lld generation jobs (users of %lld contacts), one "
              "node with %lld jobs at once: %.0f ms, %.0f jobs/s; idle node "
              "enqueue-to-claim over %lld jobs: median %.1f ms, p95 %.1f ms, "
              "max %.1f ms (target: under 50 ms)\n",
              static_cast<long long>(f.jobs),
              static_cast<long long>(f.contacts_per_user),
              static_cast<long long>(f.jobs_max), f.drain_ms, f.jobs_per_s,
              static_cast<long long>(f.samples), f.wake_median_ms,
              f.wake_p95_ms, f.wake_max_ms);
}

nlohmann::json queue_json(const queue_figures& f) {
  return {{"jobs", f.jobs},
          {"contacts_per_user", f.contacts_per_user},
          {"jobs_max", f.jobs_max},
          {"drain_ms", f.drain_ms},
          {"jobs_per_s", f.jobs_per_s},
          {"wake_samples", f.samples},
          {"wake_median_ms", f.wake_median_ms},
          {"wake_p95_ms", f.wake_p95_ms},
          {"wake_max_ms", f.wake_max_ms}};
}

} // namespace catchup::app
