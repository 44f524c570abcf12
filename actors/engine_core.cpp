// SPDX-License-Identifier: Apache-2.0
// Starting and stopping the engine (its actor system and actors, and the
// check that the memory budget can let work start), its accessors and its
// status figures. The other operations live in files of their own; see
// engine_core_impl.hpp for the list.
#include "actors/engine_core.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/cache.hpp"
#include "actors/cluster.hpp"
#include "actors/engine_core_impl.hpp"
#include "actors/generation.hpp"
#include "actors/memory_supervisor.hpp"
#include "actors/repository.hpp"
#include "actors/system_config.hpp"
#include "core/memory.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"

namespace catchup {

namespace {

// A budget whose critical level lies below what the process holds at rest
// can never let work start: the breaker would stay open whatever happens,
// and every generation and import would wait for it in vain.
void check_budget_workable(const config::memory_settings& m,
                           std::int64_t budget_bytes, memory_probe& probe) {
  if (!m.monitoring_enabled || !m.budget_check_enabled)
    return;
  const auto resting = probe.sample().allocated_bytes;
  const auto critical = budget_bytes / 100 * m.max_heap_percent;
  if (critical > resting)
    return;
  throw engine_error(
    ec::invalid_config,
    "invalid configuration: memory.budget_bytes " + std::to_string(budget_bytes)
      + " B is too small: its critical level ("
      + std::to_string(m.max_heap_percent) + "% = " + std::to_string(critical)
      + " B) is not above the " + std::to_string(resting)
      + " B of heap this process holds at rest, so the memory breaker would "
        "refuse all work for ever; give a budget well above "
      + std::to_string(resting * 100 / m.max_heap_percent) + " B");
}

} // namespace

engine_core::engine_core(const config::settings& s, engine_options options)
  : impl_(std::make_unique<impl>()) {
  start(nullptr, s, std::move(options));
}

engine_core::engine_core(caf::actor_system& host, const config::settings& s,
                         engine_options options)
  : impl_(std::make_unique<impl>()) {
  start(&host, s, std::move(options));
}

void engine_core::start(caf::actor_system* host, const config::settings& s,
                        engine_options options) {
  auto& d = *impl_;
  d.cfg = s;
  d.clock = options.clock.shifted(s.clock.offset_s * 1000);
  d.probe = options.probe ? std::move(options.probe)
                          : std::make_shared<process_memory_probe>();
  d.budget_bytes = s.memory.budget_bytes > 0 ? s.memory.budget_bytes
                                             : default_memory_budget_bytes();
  memory_status initial;
  initial.budget_bytes = d.budget_bytes;
  d.gauge->store(initial);
  d.db = storage::database::open(s.database);
  d.schema_version = storage::schema_version(d.db->url());
  check_budget_workable(s.memory, d.budget_bytes, *d.probe);
  if (s.cluster.enabled) {
    if (host)
      throw engine_error(ec::invalid_config,
                         "invalid configuration: cluster.enabled needs the "
                         "engine's own actor system (a host's system would "
                         "have to load CAF's middleman and openssl itself)");
    try {
      check_cluster_security(s.cluster);
    } catch (const std::invalid_argument& ex) {
      throw engine_error(ec::invalid_config,
                         std::string{"invalid configuration: "} + ex.what());
    }
  }
  if (host) {
    d.sys = host;
  } else {
    d.sys_cfg = std::make_unique<system_config>();
    if (s.cluster.enabled)
      configure_cluster_network(*d.sys_cfg, s.cluster);
    d.owned_sys = std::make_unique<caf::actor_system>(*d.sys_cfg);
    d.sys = d.owned_sys.get();
  }
  auto unset_logger = d.release_thread_logger(); // set by the system's making
  d.policy = pressure_policy_table{
    static_cast<std::size_t>(s.generation.batch_rows_max),
    static_cast<std::size_t>(s.generation.suggestions_max)};
  d.gen.policy = d.policy;
  d.gen.concurrent_users_max
    = static_cast<std::size_t>(s.generation.concurrent_users_max);
  d.gen.breaker_wait_max
    = std::chrono::milliseconds{s.generation.breaker_wait_max_ms};
  repository_config rc;
  rc.url = d.db->url();
  rc.connections_max = static_cast<std::size_t>(s.database.connections_max);
  rc.policy = d.policy;
  d.repo = spawn_repository(*d.sys, rc);
  if (s.memory.monitoring_enabled) {
    if (s.memory.max_heap_percent <= 70)
      spdlog::warn("memory.max_heap_percent {} is not above the high level's "
                   "70%; critical starts at 71%",
                   s.memory.max_heap_percent);
    memory_supervisor_config mc;
    mc.budget_bytes = d.budget_bytes;
    mc.critical_percent = static_cast<double>(s.memory.max_heap_percent);
    mc.sample_interval = std::chrono::milliseconds{s.memory.sample_interval_ms};
    mc.forced_gc_enabled = s.memory.forced_gc_enabled;
    mc.on_sample = std::move(options.on_memory_sample);
    d.supervisor = spawn_memory_supervisor(*d.sys, d.probe, d.gauge,
                                           d.metrics, std::move(mc));
  }
  d.cache = spawn_cache(*d.sys, d.repo, s.cache, d.budget_bytes, d.policy,
                        d.metrics);
  d.coordinator = spawn_coordinator(*d.sys, d.repo, d.gen, d.supervisor,
                                    d.metrics, d.cache);
  if (d.supervisor) {
    // Subscribed before the first request, so no work starts unaware of
    // the current level.
    auto unset_logger = d.release_thread_logger();
    caf::scoped_actor self{*d.sys};
    for (auto sub : {caf::actor_cast<caf::actor>(d.repo),
                     caf::actor_cast<caf::actor>(d.coordinator),
                     caf::actor_cast<caf::actor>(d.cache)})
      self->request(d.supervisor, std::chrono::seconds(10),
                    atom::subscribe::value, sub)
        .receive([](std::uint64_t) {},
                 [&](caf::error& err) {
                   // Not fatal: the engine then runs as if unmonitored.
                   spdlog::error("memory supervisor refused a subscriber: {}",
                                 d.sys->render(err));
                 });
  }
}

engine_core::~engine_core() {
  auto& d = *impl_;
  if (d.sys) {
    *d.imports_cancelled = true;
    // A worker still running did not hand its jobs back: its peers are to
    // rescue them, so this is no graceful leave.
    leave_cluster(*d.sys, d.take_membership(),
                  /*graceful=*/!static_cast<bool>(d.dispatcher));
    if (d.dispatcher)
      caf::anon_send_exit(d.dispatcher, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.coordinator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.cache, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.repo, caf::exit_reason::user_shutdown);
    if (d.supervisor)
      caf::anon_send_exit(d.supervisor, caf::exit_reason::user_shutdown);
    // Our own system waits for all actors here; a host's system goes on,
    // and the actors end as their exit messages arrive.
    d.owned_sys.reset();
  }
}

const wall_clock& engine_core::clock() const {
  return impl_->clock;
}

std::vector<cache_figures> engine_core::cache_status() {
  auto& d = *impl_;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  std::vector<cache_figures> out;
  self->request(d.cache, std::chrono::seconds(10), atom::status::value)
    .receive([&](std::vector<cache_figures>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

memory_status engine_core::sample_memory() {
  auto& d = *impl_;
  if (!d.supervisor)
    return d.gauge->load();
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  memory_status out;
  self->request(d.supervisor, std::chrono::seconds(10), atom::sample::value)
    .receive([&](memory_status& x) { out = x; },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

const metrics_registry& engine_core::metrics() const {
  return *impl_->metrics;
}

std::int64_t engine_core::memory_budget_bytes() const {
  return impl_->budget_bytes;
}

const std::string& engine_core::database_url() const {
  return impl_->db->url();
}

bool engine_core::embedded_database() const {
  return impl_->db->embedded();
}

std::string engine_core::data_dir() const {
  return impl_->db->embedded() ? impl_->db->cluster()->data_dir()
                               : std::string{};
}

caf::actor_system& engine_core::system() const {
  return *impl_->sys;
}

coordinator_actor engine_core::coordinator() const {
  return impl_->coordinator;
}

cache_actor engine_core::cache() const {
  return impl_->cache;
}

memory_supervisor_actor engine_core::supervisor() const {
  return impl_->supervisor;
}

std::chrono::milliseconds engine_core::generation_timeout() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    impl_->gen.user_timeout);
}

std::int64_t engine_core::schema_version() const {
  return impl_->schema_version;
}

memory_status engine_core::last_memory_status() const {
  return impl_->gauge->load();
}

const char* engine_version() {
  return CATCHUP_ENGINE_VERSION;
}

} // namespace catchup
