// SPDX-License-Identifier: Apache-2.0
#include "bench/queue_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <catchup/admin.hpp>
#include <catchup/engine.hpp>

#include "bench/bench_support.hpp"

namespace catchup::bench {

namespace {

constexpr std::uint64_t queue_seed = 9200;
constexpr std::int64_t wake_samples = 20;
// The dispatcher's lease owner, and how often it claims without a NOTIFY.
constexpr const char* node_owner = "bench";
constexpr std::int64_t poll_interval_ms = 1000;

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t)
    .count();
}

admin::job_batch generations(std::vector<std::string> user_ids) {
  admin::job_batch batch;
  batch.kind = "generate";
  batch.user_ids = std::move(user_ids);
  batch.payload_json = "{\"now\": " + std::to_string(bench_now_unix_s) + "}";
  return batch;
}

} // namespace

std::vector<std::pair<std::string, std::string>>
queue_bench_settings(std::int64_t jobs_max) {
  return {{"node.owner", node_owner},
          {"node.jobs_max", std::to_string(jobs_max)},
          {"node.poll_interval_ms", std::to_string(poll_interval_ms)},
          {"schedule.generate_interval_ms", "0"}};
}

queue_figures run_queue_bench(engine& e, std::int64_t users,
                              std::int64_t contacts_per_user,
                              std::int64_t jobs_max) {
  queue_figures f;
  f.contacts_per_user = contacts_per_user;
  f.jobs_max = jobs_max;
  admin::seed_params params;
  params.users = users;
  params.contacts_per_user = contacts_per_user;
  params.seed = queue_seed;
  params.now_unix_s = bench_now_unix_s;
  auto ids = checked(admin::seeded_users(e, params));
  if (ids.empty()) {
    say("bench: seeding the queue data set (" + std::to_string(users)
        + " users x " + std::to_string(contacts_per_user)
        + " contacts); kept for later runs");
    ids = checked(admin::seed(e, params)).user_ids;
  }
  // Only this bench's jobs: earlier runs' are finished.
  say("bench: enqueueing " + std::to_string(ids.size()) + " generation jobs");
  checked(admin::enqueue_batch(e, generations(ids)));
  f.jobs = static_cast<std::int64_t>(ids.size());
  auto started = clock_type::now();
  auto done_before = checked(e.dispatcher()).completed;
  checked(e.start_dispatcher());
  say("bench: draining");
  // The bench polls the dispatcher's own counters: no extra database load.
  for (;;) {
    auto d = checked(e.dispatcher());
    if (d.completed - done_before + d.failed
        >= static_cast<std::uint64_t>(f.jobs))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  f.drain_ms = ms_since(started);
  f.jobs_per_s = static_cast<double>(f.jobs) * 1000.0 / f.drain_ms;

  // Idle node: enqueue one job at a time and time until it is running.
  say("bench: enqueue-to-claim latency of an idle node");
  std::vector<double> waits;
  for (std::int64_t i = 0; i < wake_samples; ++i) {
    auto& user = ids[static_cast<std::size_t>(i) % ids.size()];
    auto claimed = checked(e.dispatcher()).claimed;
    auto t = clock_type::now();
    checked(admin::enqueue_batch(e, generations({user})));
    while (checked(e.dispatcher()).claimed == claimed)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    waits.push_back(ms_since(t));
    // Let it finish, so the next sample starts from an idle node.
    while (checked(e.dispatcher()).in_flight > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  checked(e.stop_dispatcher(std::chrono::seconds(30)));
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

} // namespace catchup::bench
