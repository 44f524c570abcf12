// SPDX-License-Identifier: Apache-2.0
// The registry actor (actors/cluster.hpp): the cluster's database calls,
// off the scheduler. It writes this node's heartbeat and reads every
// node's row back, declares a silent peer down and ends its job leases,
// and records that this node left; it opens its connections again after
// a failure.
#include "actors/cluster_detail.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "storage/job_queue.hpp"
#include "storage/node_registry.hpp"

namespace catchup::cluster_detail {

namespace {

pressure_level level_of(const std::string& text) {
  for (auto level : {pressure_level::normal, pressure_level::elevated,
                     pressure_level::high, pressure_level::critical})
    if (text == to_string(level))
      return level;
  return pressure_level::critical; // unknown: treat as unable to take work
}

node_status status_of(const storage::node_record& r) {
  node_status s;
  s.node_id = r.id;
  s.address = r.address;
  s.version = r.version;
  s.state = r.state;
  s.level = level_of(r.level);
  s.allocated_bytes = r.heap_bytes;
  s.budget_bytes = r.budget_bytes;
  s.used_percent = r.budget_bytes > 0
                     ? 100.0 * static_cast<double>(r.heap_bytes)
                         / static_cast<double>(r.budget_bytes)
                     : 0.0;
  s.jobs_in_flight = r.jobs_in_flight;
  s.heartbeat_age_ms = r.heartbeat_age_ms;
  return s;
}

caf::error runtime_error(const std::string& what) {
  return caf::make_error(caf::sec::runtime_error, what);
}

} // namespace

std::string level_text(pressure_level level) {
  return std::string{to_string(level)};
}

storage::node_heartbeat heartbeat_of(const node_status& s) {
  storage::node_heartbeat hb;
  hb.level = level_text(s.level);
  hb.allocated_bytes = std::max<std::int64_t>(0, s.allocated_bytes);
  hb.budget_bytes = std::max<std::int64_t>(0, s.budget_bytes);
  hb.jobs_in_flight = std::max<std::int64_t>(0, s.jobs_in_flight);
  return hb;
}

// -- the registry actor: the cluster's database calls, off the scheduler --

caf::behavior registry_actor(caf::event_based_actor*, std::string url,
                             wall_clock clock, std::string node_id,
                             std::string version) {
  struct db {
    std::unique_ptr<storage::node_registry> nodes;
    std::unique_ptr<storage::job_queue> queue;
  };
  auto d = std::make_shared<db>();
  // Opened lazily and again after a failure, so a database that comes back
  // is used again.
  auto open = [=] {
    if (!d->nodes)
      d->nodes = std::make_unique<storage::node_registry>(
        url, registry_statement_timeout_ms);
    if (!d->queue)
      d->queue = std::make_unique<storage::job_queue>(
        url, clock, registry_statement_timeout_ms);
  };
  auto reset = [=] {
    d->nodes.reset();
    d->queue.reset();
  };
  return {
    [=](atom::heartbeat,
        const node_status& own) -> caf::result<std::vector<node_status>> {
      try {
        open();
        if (!d->nodes->heartbeat(node_id, heartbeat_of(own))) {
          d->nodes->register_node(node_id, own.address, version,
                                  heartbeat_of(own));
        }
        std::vector<node_status> out;
        for (auto& r : d->nodes->list(storage::node_list_rows_max))
          out.push_back(status_of(r));
        return out;
      } catch (const std::exception& e) {
        reset();
        return runtime_error(e.what());
      }
    },
    // -1 when the peer beat after the decision (it is alive: the request
    // waited behind slow database calls), or another node declared it
    // down first (and rescued its jobs).
    [=](atom::down, const std::string& peer_id, const std::string& reason,
        std::int64_t decided_ns) -> caf::result<std::int64_t> {
      try {
        open();
        auto waited = steady_clock::now().time_since_epoch()
                      - std::chrono::nanoseconds(decided_ns);
        auto silent_for_ms = std::max<std::int64_t>(
          0, std::chrono::duration_cast<milliseconds>(waited).count());
        if (!d->nodes->mark_down(peer_id, reason, silent_for_ms))
          return std::int64_t{-1};
        return d->queue->expire_leases(peer_id);
      } catch (const std::exception& e) {
        reset();
        return runtime_error(e.what());
      }
    },
    // After every heartbeat queued before it, so no late beat makes the
    // node look up again.
    [=](atom::leave) -> caf::result<bool> {
      try {
        open();
        d->nodes->leave(node_id);
        return true;
      } catch (const std::exception& e) {
        reset();
        return runtime_error(e.what());
      }
    },
  };
}

} // namespace catchup::cluster_detail
