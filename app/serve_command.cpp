// SPDX-License-Identifier: Apache-2.0
#include "app/serve_command.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/engine_core.hpp"
#include "adapters/http_endpoint.hpp"
#include "app/signals.hpp"
#include "app/time_text.hpp"
#include "core/pressure.hpp"
#include "storage/database.hpp"
#include "storage/storage_error.hpp"
#include "storage/job_queue.hpp"
#include "storage/migrations.hpp"
#include "storage/node_registry.hpp"

namespace catchup::app {

namespace {

nlohmann::json job_json(const storage::job_record& j) {
  return {{"id", j.id},
          {"kind", j.kind},
          {"user_id", j.user_id},
          {"payload", nlohmann::json::parse(j.payload_json, nullptr, false)},
          {"state", j.state},
          {"attempts", j.attempts},
          {"max_attempts", j.max_attempts},
          {"run_at_unix_ms", j.run_at_unix_ms},
          {"last_error", j.last_error},
          {"lease_owner", j.lease_owner},
          {"lease_expires_unix_ms", j.lease_expires_unix_ms},
          {"created_unix_ms", j.created_unix_ms},
          {"finished_unix_ms", j.finished_unix_ms}};
}

nlohmann::json node_json(const storage::node_record& n) {
  return {{"id", n.id},
          {"address", n.address},
          {"version", n.version},
          {"state", n.state},
          {"level", n.level},
          {"allocated_bytes", n.allocated_bytes},
          {"budget_bytes", n.budget_bytes},
          {"jobs_in_flight", n.jobs_in_flight},
          {"started_unix_ms", n.started_unix_ms},
          {"heartbeat_unix_ms", n.heartbeat_unix_ms},
          {"heartbeat_age_ms", n.heartbeat_age_ms},
          {"down_unix_ms", n.down_unix_ms},
          {"down_reason", n.down_reason}};
}

} // namespace

int run_serve(const config::settings& settings,
              std::function<void()> reload_log_level) {
  auto e = std::make_unique<engine_core>(settings);
  auto url = e->database_url();
  auto wo = worker_options_from(settings);

  std::unique_ptr<http_endpoint> http;
  if (settings.http.enabled) {
    http_endpoint_options ho;
    ho.bind_address = settings.http.address;
    ho.port = static_cast<int>(settings.http.port);
    ho.connections_max = static_cast<std::size_t>(settings.http.connections_max);
    ho.request_timeout_ms = static_cast<int>(settings.http.request_timeout_ms);
    http_endpoint_callbacks cb;
    auto* eng = e.get();
    cb.metrics_text = [eng] {
      return eng->metrics().render_prometheus()
             + render_worker_metrics(eng->worker());
    };
    cb.ready = [eng, url]() -> readiness {
      try {
        storage::ping(url);
        auto version = storage::schema_version(url);
        if (version != storage::known_schema_version())
          return {false, "schema version " + std::to_string(version)
                           + ", this binary expects "
                           + std::to_string(storage::known_schema_version())};
      } catch (const std::exception& ex) {
        return {false, std::string{"database unreachable: "} + ex.what()};
      }
      if (eng->worker().draining)
        return {false, "shutting down"};
      auto m = eng->sample_memory();
      if (m.level == pressure_level::critical)
        return {false, "memory circuit breaker open (critical: "
                         + std::to_string(static_cast<int>(m.used_percent))
                         + "% of the budget)"};
      return {true, {}};
    };
    cb.status_json = [eng, url, owner = wo.owner] {
      auto m = eng->sample_memory();
      auto& w = eng->worker();
      nlohmann::json doc = {
        {"node", owner},
        {"pressure", std::string{to_string(m.level)}},
        {"memory",
         {{"allocated_bytes", m.allocated_bytes},
          {"resident_bytes", m.resident_bytes},
          {"budget_bytes", m.budget_bytes},
          {"used_percent", m.used_percent}}},
        {"jobs",
         {{"in_flight", w.in_flight.load()},
          {"claimed", w.claimed.load()},
          {"completed", w.completed.load()},
          {"failed", w.failed.load()},
          {"draining", w.draining.load()}}}};
      try {
        storage::job_queue queue{url, eng->clock(), 5000};
        auto d = queue.depth();
        doc["queue"] = {{"pending", d.pending}, {"due", d.due},
                        {"running", d.running}, {"failed", d.failed}};
      } catch (const std::exception& ex) {
        doc["queue"] = {{"error", ex.what()}};
      }
      try {
        storage::node_registry nodes{url, 5000};
        auto list = nlohmann::json::array();
        for (auto& n : nodes.list())
          list.push_back(node_json(n));
        doc["cluster"] = {{"nodes", list}};
      } catch (const std::exception& ex) {
        doc["cluster"] = {{"error", ex.what()}};
      }
      return doc.dump();
    };
    http = std::make_unique<http_endpoint>(ho, cb);
    spdlog::info("serving /metrics /livez /readyz /status on {}:{}",
                 settings.http.address, http->port());
  }
  e->start_worker(wo);
  spdlog::info("node {} takes jobs (lease {} ms, at most {} at once)",
               wo.owner, wo.lease_ms, wo.jobs_max);
  if (settings.cluster.enabled) {
    std::printf("catchup serve: cluster endpoint %s\n",
                e->cluster_address().c_str());
  }

  // The signal thread asks for the shutdown and waits for it; this thread
  // does it, so the engine (and the private cluster) close on the thread
  // that opened them.
  std::mutex mtx;
  std::condition_variable cv;
  bool stop_requested = false;
  bool stopped = false;
  on_hangup([reload_log_level] {
    if (reload_log_level)
      reload_log_level();
  });
  on_interrupt_exit([&](int) {
    std::unique_lock<std::mutex> lock{mtx};
    stop_requested = true;
    cv.notify_all();
    cv.wait(lock, [&] { return stopped; });
    // The main thread exits the process with 0; wait for it.
    for (;;)
      cv.wait(lock);
    return 0;
  });
  // Ready only once the signal handlers are in place, so a supervisor
  // that signals right after this line is heard.
  std::printf("catchup serve: node %s ready\n", wo.owner.c_str());
  std::fflush(stdout);
  {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return stop_requested; });
  }
  spdlog::info("stopping: no new jobs; {} in flight",
               e->worker().in_flight.load());
  e->stop_worker(std::chrono::milliseconds(settings.node.shutdown_grace_ms));
  if (http)
    http->stop();
  auto& w = e->worker();
  std::printf("catchup serve: stopped; %llu jobs completed, %llu handed "
              "back\n",
              static_cast<unsigned long long>(w.completed.load()),
              static_cast<unsigned long long>(w.released.load()));
  e.reset();
  std::fflush(stdout);
  spdlog::default_logger()->flush();
  {
    std::lock_guard<std::mutex> lock{mtx};
    stopped = true;
  }
  cv.notify_all();
  std::_Exit(0);
}

int run_enqueue(const config::settings& settings, const std::string& kind,
                const std::string& user_id, const std::string& payload_json,
                std::int32_t max_attempts) {
  try {
    engine_core::check_job(kind, payload_json);
  } catch (const engine_error& e) {
    std::fprintf(stderr, "catchup: error: %s\n", e.what());
    return 1;
  }
  auto db = storage::database::open(settings.database);
  storage::job_queue queue{db->url(), app::clock_of(settings)};
  auto r = queue.enqueue(kind, user_id, payload_json, 0, max_attempts);
  std::printf("job %lld %s\n", static_cast<long long>(r.id),
              r.created ? "enqueued" : "already pending (not enqueued again)");
  return 0;
}

int run_jobs(const config::settings& settings, const std::string& action,
             std::int64_t id, const std::string& state, std::int64_t limit,
             bool as_json) {
  auto db = storage::database::open(settings.database);
  storage::job_queue queue{db->url(), app::clock_of(settings)};
  if (action == "list") {
    auto jobs = queue.list(state, static_cast<std::size_t>(limit));
    if (as_json) {
      auto out = nlohmann::json::array();
      for (auto& j : jobs)
        out.push_back(job_json(j));
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("%8s  %-13s  %-36s  %-9s  %8s  %s\n", "id", "kind", "user",
                "state", "attempts", "last error");
    for (auto& j : jobs)
      std::printf("%8lld  %-13s  %-36s  %-9s  %4d/%-3d  %s\n",
                  static_cast<long long>(j.id), j.kind.c_str(),
                  j.user_id.c_str(), j.state.c_str(), j.attempts,
                  j.max_attempts, j.last_error.c_str());
    return 0;
  }
  if (action == "show") {
    auto j = queue.get(id);
    if (!j) {
      std::fprintf(stderr, "catchup: error: no job %lld\n",
                   static_cast<long long>(id));
      return 1;
    }
    std::cout << job_json(*j).dump(2) << "\n";
    return 0;
  }
  bool ok = action == "retry" ? queue.retry(id) : queue.cancel(id);
  if (!ok) {
    std::fprintf(stderr,
                 "catchup: error: job %lld cannot be %s (%s)\n",
                 static_cast<long long>(id),
                 action == "retry" ? "retried" : "cancelled",
                 action == "retry"
                   ? "only a failed or cancelled job can, and only when no "
                     "job of its kind and user is pending"
                   : "only a pending job can");
    return 1;
  }
  std::printf("job %lld %s\n", static_cast<long long>(id),
              action == "retry" ? "pending again" : "cancelled");
  return 0;
}

int run_cluster_status(const config::settings& settings, bool as_json) {
  auto db = storage::database::open(settings.database);
  storage::node_registry registry{db->url()};
  auto nodes = registry.list();
  if (as_json) {
    auto out = nlohmann::json::array();
    for (auto& n : nodes)
      out.push_back(node_json(n));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (nodes.empty()) {
    std::printf("no node has joined the cluster (cluster.enabled = true on "
                "`catchup serve`)\n");
    return 0;
  }
  std::printf("%-28s  %-21s  %-5s  %-8s  %10s  %10s  %5s  %10s\n", "node",
              "address", "state", "level", "heap MiB", "budget MiB", "jobs",
              "heartbeat");
  for (auto& n : nodes) {
    auto mib = [](std::int64_t b) { return static_cast<double>(b) / 1048576.0; };
    std::printf("%-28s  %-21s  %-5s  %-8s  %10.1f  %10.1f  %5lld  %7.1f s "
                "ago%s\n",
                n.id.c_str(), n.address.c_str(), n.state.c_str(),
                n.level.c_str(), mib(n.allocated_bytes), mib(n.budget_bytes),
                static_cast<long long>(n.jobs_in_flight),
                static_cast<double>(n.heartbeat_age_ms) / 1000.0,
                n.down_reason.empty() ? ""
                                      : ("  (" + n.down_reason + ")").c_str());
  }
  return 0;
}

} // namespace catchup::app
