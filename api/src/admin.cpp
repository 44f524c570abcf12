// SPDX-License-Identifier: Apache-2.0
#include "catchup/admin.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actors/cluster.hpp"
#include "config/logging.hpp"
#include "convert.hpp"
#include "engine_impl.hpp"
#include "load_settings.hpp"
#include "storage/database.hpp"
#include "storage/queue_admin.hpp"
#include "storage/storage_error.hpp"

namespace catchup::admin {

using api::current_error;
using api::input_means;

namespace {

/// Runs `f` with the settings of `config`: a bad configuration is
/// invalid_config, and every failure of `f` an error value.
template <class T, class F>
result<T> with_settings(const engine_config& config, F&& f,
                        input_means input = input_means::argument) noexcept {
  auto settings = api::load_settings(config);
  if (!settings)
    return settings.error();
  try {
    return f(*settings);
  } catch (...) {
    return current_error(input);
  }
}

/// The private cluster of `s`, or why there is none.
result<storage::embedded_cluster_options>
private_cluster_of(const config::settings& s) {
  if (!s.database.url.empty())
    return error{error_code::invalid_config,
                 "database.url is set, so there is no private database to "
                 "manage; unset it to manage the one in database.data_dir"};
  return storage::cluster_options(s.database);
}

/// `act` on the private cluster the settings name; an error when they name
/// a database server instead.
template <class T, class Act>
result<T> with_private_cluster(const engine_config& config, Act act) noexcept {
  return with_settings<T>(config,
                          [&](const config::settings& s) -> result<T> {
                            auto options = private_cluster_of(s);
                            if (!options)
                              return options.error();
                            storage::embedded_cluster cluster{*options};
                            return act(cluster);
                          });
}

/// The clock a task reads: the system's, moved by clock.offset_s, as an
/// engine opened with the same settings reads it.
wall_clock clock_of(const config::settings& s) {
  return wall_clock::system(s.clock.offset_s * 1000);
}

/// Runs `f` as a call on `eng` with the engine's queue_admin connection,
/// opened at the first such call. A connection that broke is dropped, so
/// the next call opens a fresh one.
template <class T, class F>
result<T> with_queue_admin(engine& eng, F&& f) noexcept {
  auto* d = detail::engine_access::state(eng);
  if (!d)
    return error{error_code::closed, api::closed_text};
  return d->call<T>([&] {
    std::lock_guard<std::mutex> guard{d->queue_admin_mtx};
    if (!d->queue_admin)
      d->queue_admin = std::make_unique<storage::queue_admin>(d->url, d->clock);
    try {
      return f(*d->queue_admin);
    } catch (const storage::storage_error& e) {
      if (e.code() == ec::db_unavailable)
        d->queue_admin.reset();
      throw;
    }
  });
}

} // namespace

// -- configuration ---------------------------------------------------------------

std::vector<setting_key> setting_keys() {
  std::vector<setting_key> out;
  for (const auto& spec : config::key_specs())
    out.push_back({std::string{spec.key}, config::flag_name(spec.key),
                   std::string{spec.default_value}, std::string{spec.help}});
  return out;
}

result<std::vector<setting>>
effective_settings(const engine_config& config) noexcept {
  auto loaded = api::load_configuration(config);
  if (!loaded)
    return loaded.error();
  try {
    std::vector<setting> out;
    for (const auto& e : loaded->entries)
      out.push_back({e.key, e.value, e.origin.describe()});
    return out;
  } catch (...) {
    return current_error();
  }
}

result<std::string> configure_logging(const engine_config& config) noexcept {
  return with_settings<std::string>(config, [](const config::settings& s) {
    config::setup_logging(s.log);
    return s.log.level;
  });
}

// -- the private database --------------------------------------------------------

const char* to_string(database_state state) noexcept {
  switch (state) {
    case database_state::absent:
      return "absent";
    case database_state::stopped:
      return "stopped";
    case database_state::running:
      return "running";
  }
  return "unknown";
}

result<database_info> database_status(const engine_config& config) noexcept {
  return with_private_cluster<database_info>(config, [](auto& cluster) {
    return api::to_public(cluster.status());
  });
}

result<bool> start_database(const engine_config& config) noexcept {
  return with_private_cluster<bool>(
    config, [](auto& cluster) { return cluster.start_detached(); });
}

result<bool> stop_database(const engine_config& config) noexcept {
  return with_private_cluster<bool>(
    config, [](auto& cluster) { return cluster.stop(); });
}

result<bool>
stop_database_if_started_here(const engine_config& config) noexcept {
  return with_settings<bool>(config, [](const config::settings& s) {
    if (!s.database.url.empty())
      return false;
    // A cluster object of its own: the engine's may be in use (or being
    // destroyed) on another thread meanwhile.
    storage::embedded_cluster cluster{storage::cluster_options(s.database)};
    if (cluster.status().owner != std::to_string(::getpid()))
      return false;
    return cluster.stop();
  });
}

// -- schema --------------------------------------------------------------------

result<migration_summary> migrate(const engine_config& config) noexcept {
  return with_settings<migration_summary>(
    config, [](const config::settings& s) {
      auto db = storage::database::open_unchecked(s.database);
      return api::to_public(storage::migrate(db->url()));
    });
}

// -- demo data ---------------------------------------------------------------------

result<seed_summary> seed(engine& eng, const seed_params& params) noexcept {
  auto* d = detail::engine_access::state(eng);
  if (!d)
    return error{error_code::closed, api::closed_text};
  return d->call<seed_summary>([&] {
    auto options = api::to_internal(params);
    // Never 0 for the store: seeded data is made around a fixed instant.
    options.now_unix_s = d->core->clock().or_now_unix_s(params.now_unix_s);
    return api::to_public(d->core->seed(options));
  });
}

result<std::vector<std::string>>
seeded_users(engine& eng, const seed_params& params) noexcept {
  auto* d = detail::engine_access::state(eng);
  if (!d)
    return error{error_code::closed, api::closed_text};
  return d->call<std::vector<std::string>>(
    [&] { return d->core->seeded_users(api::to_internal(params)); });
}

result<std::int64_t> delete_demo_jobs(engine& eng,
                                      std::uint64_t seed) noexcept {
  return with_queue_admin<std::int64_t>(
    eng, [&](storage::queue_admin& q) { return q.delete_seed_jobs(seed); });
}

// -- the job queue -----------------------------------------------------------------

result<enqueued_job> enqueue_job(const engine_config& config,
                                 const job_request& request) noexcept {
  try {
    // Before the database: a mistake is said at once, even without one.
    engine_core::check_job(request.kind, request.payload_json);
  } catch (...) {
    return current_error();
  }
  return with_settings<enqueued_job>(config, [&](const config::settings& s) {
    auto db = storage::database::open(s.database);
    storage::job_queue queue{db->url(), clock_of(s)};
    auto r = queue.enqueue(request.kind, request.user_id,
                           request.payload_json, request.run_at_unix_ms,
                           request.max_attempts);
    return r;
  });
}

result<std::vector<job_info>> list_jobs(const engine_config& config,
                                        const std::string& state,
                                        std::size_t limit) noexcept {
  return with_settings<std::vector<job_info>>(
    config, [&](const config::settings& s) {
      auto db = storage::database::open(s.database);
      storage::job_queue queue{db->url(), clock_of(s)};
      return queue.list(state, limit);
    });
}

result<job_info> find_job(const engine_config& config,
                          std::int64_t id) noexcept {
  return with_settings<job_info>(
    config, [&](const config::settings& s) -> result<job_info> {
      auto db = storage::database::open(s.database);
      storage::job_queue queue{db->url(), clock_of(s)};
      auto job = queue.get(id);
      if (!job)
        return error{error_code::not_found, "no job " + std::to_string(id)};
      return *job;
    });
}

result<bool> retry_job(const engine_config& config, std::int64_t id) noexcept {
  return with_settings<bool>(config, [&](const config::settings& s) {
    auto db = storage::database::open(s.database);
    storage::job_queue queue{db->url(), clock_of(s)};
    return queue.retry(id);
  });
}

result<bool> cancel_job(const engine_config& config, std::int64_t id) noexcept {
  return with_settings<bool>(config, [&](const config::settings& s) {
    auto db = storage::database::open(s.database);
    storage::job_queue queue{db->url(), clock_of(s)};
    return queue.cancel(id);
  });
}

// -- batches of jobs, through an open engine ---------------------------------------

result<std::vector<enqueued_job>> enqueue_batch(engine& eng,
                                                const job_batch& batch) noexcept {
  try {
    engine_core::check_job(batch.kind, batch.payload_json);
  } catch (...) {
    return current_error();
  }
  return with_queue_admin<std::vector<enqueued_job>>(
    eng, [&](storage::queue_admin& q) {
      return q.enqueue(batch);
    });
}

result<job_counts> count_jobs(engine& eng,
                              const std::vector<std::int64_t>& ids) noexcept {
  return with_queue_admin<job_counts>(eng, [&](storage::queue_admin& q) {
    return q.counts(ids);
  });
}

result<std::vector<std::int64_t>>
jobs_held_by(engine& eng, const std::string& node_id) noexcept {
  return with_queue_admin<std::vector<std::int64_t>>(
    eng, [&](storage::queue_admin& q) { return q.held_by(node_id); });
}

// -- the cluster -------------------------------------------------------------------

result<std::vector<cluster_node>>
cluster_nodes(const engine_config& config) noexcept {
  return with_settings<std::vector<cluster_node>>(
    config, [](const config::settings& s) {
      auto db = storage::database::open(s.database);
      storage::node_registry registry{db->url()};
      return registry.list();
    });
}

std::string cluster_node_json(const cluster_node& n) {
  return nlohmann::json{{"id", n.id},
                        {"address", n.address},
                        {"version", n.version},
                        {"state", n.state},
                        {"level", n.level},
                        {"allocated_bytes", n.heap_bytes},
                        {"budget_bytes", n.budget_bytes},
                        {"jobs_in_flight", n.jobs_in_flight},
                        {"started_unix_ms", n.started_unix_ms},
                        {"heartbeat_unix_ms", n.heartbeat_unix_ms},
                        {"heartbeat_age_ms", n.heartbeat_age_ms},
                        {"down_unix_ms", n.down_unix_ms},
                        {"down_reason", n.down_reason}}
    .dump();
}

result<bool> forget_node(const engine_config& config,
                         const std::string& node_id) noexcept {
  return with_settings<bool>(config, [&](const config::settings& s) {
    auto db = storage::database::open(s.database);
    storage::queue_admin admin{db->url(), clock_of(s)};
    return admin.forget_node(node_id);
  });
}

result<remote_generation> generate_via(const engine_config& config,
                                       const std::string& address,
                                       const std::string& user_id,
                                       std::int64_t now_unix_s,
                                       std::chrono::milliseconds timeout) noexcept {
  return with_settings<remote_generation>(
    config,
    [&](const config::settings& s) {
      // "Now" is this host's, fixed before the request leaves, as for a
      // generation here.
      auto now = clock_of(s).or_now_unix_s(now_unix_s);
      if (timeout.count() <= 0)
        timeout = std::chrono::milliseconds{s.cluster.route_timeout_ms};
      return api::to_public(
        ::catchup::generate_via(s.cluster, address, user_id, now, timeout));
    },
    // The address and the TLS settings are the caller's to fix.
    input_means::setting);
}

} // namespace catchup::admin
