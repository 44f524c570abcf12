// SPDX-License-Identifier: Apache-2.0
#include "catchup/server.hpp"
#include "catchup/admin.hpp"

#include <chrono>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/dispatcher.hpp"
#include "adapters/http_endpoint.hpp"
#include "convert.hpp"
#include "core/pressure.hpp"
#include "engine_impl.hpp"
#include "storage/database.hpp"
#include "storage/job_queue.hpp"
#include "storage/migrations.hpp"
#include "storage/node_registry.hpp"

namespace catchup {

struct server::impl {
  catchup::engine eng;
  std::string node_id;
  // Shared with the engine's before_close: the endpoint's callbacks read
  // the engine's core, so a close of the engine (through engine(), too)
  // stops the endpoint first.
  std::shared_ptr<http_endpoint> http;
  bool stopped = false;
  server_totals totals;

  engine_core& core() {
    return *detail::engine_access::state(eng)->core;
  }
};

namespace {

/// /readyz: the database answers with the schema this library knows, the
/// node is not stopping, and memory is below critical.
readiness ready_now(engine_core& core, const std::string& url) {
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
  if (core.worker().draining)
    return {false, "shutting down"};
  auto m = core.sample_memory();
  if (m.level == pressure_level::critical)
    return {false, "memory circuit breaker open (critical: "
                     + std::to_string(static_cast<int>(m.used_percent))
                     + "% of the budget)"};
  return {true, {}};
}

/// /status: the node, its memory and jobs, the queue and the cluster.
std::string status_now(engine_core& core, const std::string& url,
                       const std::string& node_id) {
  auto m = core.sample_memory();
  auto& w = core.worker();
  nlohmann::json doc = {
    {"node", node_id},
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
    storage::job_queue queue{url, core.clock(), 5000};
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
      list.push_back(nlohmann::json::parse(admin::cluster_node_json(n)));
    doc["cluster"] = {{"nodes", list}};
  } catch (const std::exception& ex) {
    doc["cluster"] = {{"error", ex.what()}};
  }
  return doc.dump();
}

std::shared_ptr<http_endpoint> serve_http(const config::settings& settings,
                                          engine_core& core,
                                          const std::string& node_id) {
  http_endpoint_options ho;
  ho.bind_address = settings.http.address;
  ho.port = static_cast<int>(settings.http.port);
  ho.connections_max = static_cast<std::size_t>(settings.http.connections_max);
  ho.request_timeout_ms = static_cast<int>(settings.http.request_timeout_ms);
  http_endpoint_callbacks cb;
  auto* c = &core;
  auto url = core.database_url();
  cb.metrics_text = [c] {
    return c->metrics().render_prometheus() + render_worker_metrics(c->worker());
  };
  cb.ready = [c, url] { return ready_now(*c, url); };
  cb.status_json = [c, url, node_id] { return status_now(*c, url, node_id); };
  auto http = std::make_shared<http_endpoint>(ho, cb);
  spdlog::info("serving /metrics /livez /readyz /status on {}:{}",
               settings.http.address, http->port());
  return http;
}

} // namespace

result<server> server::start(const engine_config& config) noexcept {
  try {
    auto opened = engine::open(config);
    if (!opened)
      return opened.error();
    auto d = std::make_unique<impl>();
    d->eng = std::move(*opened);
    auto* state = detail::engine_access::state(d->eng);
    const auto& settings = state->settings;
    auto wo = worker_options_from(settings);
    d->node_id = wo.owner;
    if (settings.http.enabled) {
      d->http = serve_http(settings, d->core(), d->node_id);
      state->before_close = [http = d->http] { http->stop(); };
    }
    {
      std::lock_guard<std::mutex> guard{state->dispatcher_mtx};
      d->core().start_worker(wo);
    }
    spdlog::info("node {} takes jobs (lease {} ms, at most {} at once)",
                 wo.owner, wo.lease_ms, wo.jobs_max);
    return server{std::move(d)};
  } catch (...) {
    return api::current_error();
  }
}

server::server() noexcept = default;

server::server(std::unique_ptr<impl> d) noexcept : impl_(std::move(d)) {
  // nop
}

server::server(server&&) noexcept = default;

server& server::operator=(server&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

server::~server() {
  close();
}

std::string server::node_id() const {
  return impl_ ? impl_->node_id : std::string{};
}

std::string server::cluster_address() const {
  if (!impl_ || !impl_->eng.is_open())
    return {};
  return impl_->core().cluster_address();
}

int server::http_port() const noexcept {
  return impl_ && impl_->http ? impl_->http->port() : 0;
}

std::uint64_t server::jobs_in_flight() const noexcept {
  if (!impl_ || !impl_->eng.is_open())
    return 0;
  return impl_->core().worker().in_flight.load();
}

catchup::engine& server::engine() noexcept {
  static catchup::engine none;
  return impl_ ? impl_->eng : none;
}

server_totals server::stop() noexcept {
  if (!impl_)
    return {};
  if (!impl_->eng.is_open()) {
    // Closed through engine(): its before_close stopped the endpoint.
    return impl_->totals;
  }
  auto& d = *impl_;
  if (d.stopped)
    return d.totals;
  d.stopped = true;
  auto* state = detail::engine_access::state(d.eng);
  auto& w = d.core().worker();
  try {
    spdlog::info("stopping: no new jobs; {} in flight", w.in_flight.load());
    std::lock_guard<std::mutex> guard{state->dispatcher_mtx};
    d.core().stop_worker(
      std::chrono::milliseconds(state->settings.node.shutdown_grace_ms));
  } catch (...) {
    // Stopping goes on: the jobs' leases expire and another node takes them.
  }
  try {
    if (d.http)
      d.http->stop();
  } catch (...) {
    // The endpoint's threads end with the process at the latest.
  }
  d.totals = {w.completed.load(), w.released.load()};
  return d.totals;
}

void server::close() noexcept {
  if (!impl_)
    return;
  stop();
  impl_->eng.close();
}

} // namespace catchup
