// SPDX-License-Identifier: Apache-2.0
// The cluster actor's membership (actors/cluster.hpp): it dials the nodes
// of the registry's rows and the seeds, greets the nodes that dial it,
// shares its pressure with its peers and writes its heartbeat each
// interval, and declares down a peer whose connection drops (unless this
// node itself stalled), so that the peer's jobs are rescued now.
#include "actors/cluster_detail.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace catchup::cluster_detail {

namespace {

/// A peer that does not say who it is within this long is dropped.
constexpr std::int64_t hello_timeout_ms = 5000;
/// The longest wait before dialling an unreachable address again.
constexpr std::int64_t retry_wait_max_ms = 30000;
/// A row whose node is not connected to us counts as dead when its
/// heartbeat is older than this many membership intervals (and than the
/// peer timeout): it died before we ever reached it.
constexpr std::int64_t stale_row_intervals = 3;

void tell_dispatcher(cluster_self, cluster_state& st) {
  std::int32_t lowest = -1;
  for (auto& [address, p] : st.peers)
    if (p.status_known)
      lowest = lowest < 0 ? static_cast<std::int32_t>(p.status.level)
                          : std::min(lowest, static_cast<std::int32_t>(
                                               p.status.level));
  if (lowest == st.told_lowest || !st.opt.dispatcher)
    return;
  st.told_lowest = lowest;
  caf::anon_send(st.opt.dispatcher, atom::peers::value, lowest);
}

void declare_down(cluster_self self, const cluster_ptr& st,
                  const std::string& node_id, const std::string& reason) {
  if (node_id.empty() || node_id == st->opt.node_id)
    return;
  st->declared_down.insert(node_id);
  auto started = steady_clock::now();
  auto decided_ns = static_cast<std::int64_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(
      started.time_since_epoch())
      .count());
  self
    ->request(st->registry, milliseconds(registry_statement_timeout_ms * 2),
              atom::down::value, node_id, reason, decided_ns)
    .then(
      [=](std::int64_t rescued) {
        auto took_ms = std::chrono::duration_cast<milliseconds>(
                         steady_clock::now() - started)
                         .count();
        if (rescued < 0) {
          spdlog::info("cluster: lost node {} ({}), but it beat since or "
                       "another node declared it down first; nothing to "
                       "rescue here",
                       node_id, reason);
          return;
        }
        spdlog::warn("cluster: node {} is down ({}); ended its {} job "
                     "leases in {} ms, so they are claimed again now",
                     node_id, reason, rescued, took_ms);
        if (st->opt.dispatcher && rescued > 0)
          caf::anon_send(st->opt.dispatcher, atom::wake::value);
      },
      [=](caf::error& err) {
        // Its leases then run out by themselves and any node rescues the
        // jobs; only the delay suffers.
        spdlog::error("cluster: node {} is down ({}), but its jobs cannot "
                      "be rescued now: {}",
                      node_id, reason, self->system().render(err));
      });
}

/// Forgets the peer entry at `i`; stops monitoring its handle only when no
/// other entry holds it (CAF gives one proxy per remote actor, and
/// demonitor removes every monitor on it).
void drop_peer(cluster_self self, cluster_state& st,
               std::map<std::string, peer_info>::iterator i) {
  auto addr = i->second.handle.address();
  st.peers.erase(i);
  if (addr && st.find_by_handle(addr) == nullptr)
    self->demonitor(addr);
}

/// Remembers a failed dial: the next one waits twice as long as the last
/// (1 s first, 30 s at most). @returns true on the first failure.
bool note_unreachable(cluster_state& st, const std::string& address) {
  auto [it, first] = st.unreachable.try_emplace(address);
  auto& r = it->second;
  r.wait = std::min(std::max(r.wait * 2, milliseconds(1000)),
                    milliseconds(retry_wait_max_ms));
  r.not_before = steady_clock::now() + r.wait;
  return first;
}

// A dial reached a node: it becomes a peer once its hello says who it is
// (and that it is neither this node nor one already connected).
void on_dialled(cluster_self self, const cluster_ptr& st,
                const std::string& address, caf::strong_actor_ptr& ptr) {
  st->unreachable.erase(address);
  auto handle = caf::actor_cast<cluster_node_actor>(ptr);
  if (st->find_by_handle(handle.address()) != nullptr)
    return; // the same node, reached by another address or its hello
  self->monitor(handle);
  auto& p = st->peers[address];
  p.address = address;
  p.handle = handle;
  self->send(handle, atom::pressure::value, st->own_status());
  self->request(handle, milliseconds(hello_timeout_ms), atom::status::value)
    .then(
      [=](node_status& status) {
        auto i = st->peers.find(address);
        if (i == st->peers.end())
          return;
        auto* same = st->find_by_id(status.node_id);
        if (status.node_id == st->opt.node_id
            || (same != nullptr && same != &i->second)) {
          // Ourselves, or a node reached by two addresses: keep one.
          drop_peer(self, *st, i);
          return;
        }
        i->second.node_id = status.node_id;
        i->second.status = status;
        i->second.status_known = true;
        self->send(i->second.handle, atom::connect::value,
                   st->own_status(), caf::actor_cast<caf::actor>(self));
        st->declared_down.erase(status.node_id);
        spdlog::info("cluster: connected to node {} at {} ({}, {} "
                     "jobs in flight)",
                     status.node_id, address, level_text(status.level),
                     status.jobs_in_flight);
        tell_dispatcher(self, *st);
      },
      [=](caf::error& err) {
        spdlog::warn("cluster: node at {} did not say who it is ({}); "
                     "dropping the connection",
                     address, self->system().render(err));
        auto i = st->peers.find(address);
        if (i != st->peers.end())
          drop_peer(self, *st, i);
      });
}

void connect(cluster_self self, const cluster_ptr& st,
             const std::string& address) {
  if (address.empty() || st->connecting.count(address) > 0
      || st->peers.count(address) > 0 || address == st->address()
      || st->peers.size() + st->connecting.size()
           >= static_cast<std::size_t>(st->opt.settings.peers_max))
    return;
  if (auto u = st->unreachable.find(address);
      u != st->unreachable.end() && steady_clock::now() < u->second.not_before)
    return;
  std::pair<std::string, std::uint16_t> target;
  try {
    target = split_address(address);
  } catch (const std::exception& e) {
    if (note_unreachable(*st, address))
      spdlog::warn("cluster: ignoring peer address: {}", e.what());
    return;
  }
  st->connecting.insert(address);
  auto connector = self->spawn<caf::detached>(connector_actor, st->tls);
  st->connectors.emplace(connector.address(), address);
  self->monitor(connector);
  self
    ->request(connector, milliseconds(connect_timeout_ms), atom::connect::value,
              target.first, target.second)
    .then(
      [=](caf::strong_actor_ptr& ptr) { on_dialled(self, st, address, ptr); },
      [=](caf::error& err) {
        // `connecting` is cleared when the connector thread ends.
        if (note_unreachable(*st, address)) {
          auto text = self->system().render(err);
          if (err == caf::sec::disconnect_during_handshake)
            text += " (the TLS handshake failed: one side's certificate is "
                    "not signed by the other's cluster.tls.ca, or one side "
                    "runs without TLS)";
          spdlog::warn("cluster: cannot connect to {}: {}", address, text);
        }
      });
}

void on_rows(cluster_self self, const cluster_ptr& st,
             std::vector<node_status>& rows) {
  // Generous: the beats of a live node go through a database that may be
  // slow, and an unconnected node may just be waiting for its dial.
  auto stale_ms = std::max(st->opt.settings.peer_timeout_ms,
                           stale_row_intervals
                             * st->opt.settings.membership_interval_ms)
                  + 2 * registry_statement_timeout_ms;
  for (auto& row : rows) {
    if (row.node_id == st->opt.node_id || row.state != "up")
      continue;
    auto* peer = st->find_by_id(row.node_id);
    if (peer == nullptr && row.heartbeat_age_ms > stale_ms) {
      // Died before we reached it, or while we could not: nobody saw its
      // connection drop, so its silence in the table is the signal.
      declare_down(self, st, row.node_id,
                   "no heartbeat for " + std::to_string(row.heartbeat_age_ms)
                     + " ms");
      continue;
    }
    // One connection per pair: two nodes dialling each other at once
    // make CAF drop one of the connections, and the proxies on it report
    // the peer down. The lower id dials; the other learns of it by hello.
    if (peer == nullptr && st->opt.node_id < row.node_id)
      connect(self, st, row.address);
  }
  for (auto& seed : st->seeds)
    connect(self, st, seed);
}

// A monitored actor ended: a connector thread, or the proxy of peers. A
// peer that did not leave gracefully is declared down (unless this node was
// stalled), and the generations running there are routed elsewhere.
void on_down(cluster_self self, const cluster_ptr& st,
             const caf::down_msg& dm) {
  if (auto c = st->connectors.find(dm.source); c != st->connectors.end()) {
    st->connecting.erase(c->second);
    st->connectors.erase(c);
    return;
  }
  // Every entry on this handle (one node reached twice holds one proxy).
  std::vector<peer_info> gone;
  for (auto i = st->peers.begin(); i != st->peers.end();) {
    if (i->second.handle.address() == dm.source) {
      gone.push_back(std::move(i->second));
      i = st->peers.erase(i);
    } else {
      ++i;
    }
  }
  std::set<std::string> declared;
  for (auto& peer : gone) {
    auto reason = self->system().render(dm.reason);
    if (dm.reason == caf::exit_reason::user_shutdown
        || dm.reason == caf::exit_reason::normal) {
      // A graceful stop: it handed its jobs back before it went.
      spdlog::info("cluster: node {} left",
                   peer.node_id.empty() ? peer.address : peer.node_id);
    } else if (st->stalled()) {
      spdlog::warn("cluster: lost the connection to {} while this node "
                   "was stalled; reconnecting instead of declaring it "
                   "down",
                   peer.node_id.empty() ? peer.address : peer.node_id);
    } else if (peer.node_id.empty()) {
      spdlog::warn("cluster: lost the connection to {} before it said who "
                   "it is ({})",
                   peer.address, reason);
    } else if (declared.insert(peer.node_id).second) {
      declare_down(self, st, peer.node_id, reason);
    }
    // Generations running there go elsewhere now, not at their timeout.
    for (auto& r : peer.routes)
      if (!r->done && r->on_peer == peer.address) {
        r->last_failure = (peer.node_id.empty() ? peer.address
                                                : peer.node_id)
                          + " went down (" + reason + ")";
        route(self, st, r);
      }
  }
  if (!gone.empty())
    tell_dispatcher(self, *st);
}

// A node that dialled this one says hello: it becomes a peer, unless it is
// this node or one already connected.
void on_hello(cluster_self self, const cluster_ptr& st, node_status& status,
              const caf::actor& handle) {
  if (!handle || status.node_id.empty()
      || status.node_id == st->opt.node_id
      || st->find_by_id(status.node_id) != nullptr
      || st->find_by_handle(handle.address()) != nullptr)
    return;
  auto key = status.address.empty() ? status.node_id : status.address;
  auto& p = st->peers[key];
  p.address = key;
  p.handle = caf::actor_cast<cluster_node_actor>(handle);
  p.node_id = status.node_id;
  p.status = std::move(status);
  p.status_known = true;
  st->connecting.erase(key);
  st->unreachable.erase(key);
  st->declared_down.erase(p.node_id);
  self->monitor(p.handle);
  spdlog::info("cluster: connected to node {} at {} (it dialled; {}, {} "
               "jobs in flight)",
               p.node_id, key, level_text(p.status.level),
               p.status.jobs_in_flight);
  tell_dispatcher(self, *st);
}

// The membership interval: notes a stall of this node, sends its status
// to its peers, writes its heartbeat (reading the table back for peers to
// dial) and schedules the next tick.
void on_tick(cluster_self self, const cluster_ptr& st) {
  auto now = steady_clock::now();
  auto late = now - st->next_tick_due;
  if (late > milliseconds(st->opt.settings.peer_timeout_ms / 2)) {
    st->stalled_until
      = now + milliseconds(2 * st->opt.settings.peer_timeout_ms);
    spdlog::warn("cluster: this node stalled for {} ms; peers may have "
                 "declared it down and rescued its jobs (its late "
                 "results are refused)",
                 std::chrono::duration_cast<milliseconds>(late).count());
  }
  st->next_tick_due
    = now + milliseconds(st->opt.settings.membership_interval_ms);
  auto own = st->own_status();
  for (auto& [address, p] : st->peers)
    self->send(p.handle, atom::pressure::value, own);
  if (!st->heartbeat_in_flight) {
    st->heartbeat_in_flight = true;
    self
      ->request(st->registry,
                milliseconds(registry_statement_timeout_ms * 2),
                atom::heartbeat::value, own)
      .then(
        [=](std::vector<node_status>& rows) {
          st->heartbeat_in_flight = false;
          on_rows(self, st, rows);
        },
        [=](caf::error& err) {
          st->heartbeat_in_flight = false;
          spdlog::error("cluster: cannot write this node's heartbeat: "
                        "{}",
                        self->system().render(err));
          // Seeds need no table.
          for (auto& seed : st->seeds)
            connect(self, st, seed);
        });
  }
  self->delayed_send(self,
                     milliseconds(st->opt.settings.membership_interval_ms),
                     atom::tick::value);
}

} // namespace

cluster_node_actor::behavior_type cluster_actor(cluster_self self,
                                                cluster_ptr st) {
  self->set_down_handler(
    [=](caf::down_msg& dm) { on_down(self, st, dm); });
  if (st->opt.supervisor)
    self
      ->request(st->opt.supervisor, caf::infinite, atom::subscribe::value,
                caf::actor_cast<caf::actor>(self))
      .then([](std::uint64_t) {}, [](const caf::error&) {});
  return {
    [=](atom::generate, std::string& user_id, std::int64_t now_unix_s,
        std::int64_t timeout_ms) -> caf::result<routed_generation> {
      auto r = std::make_shared<route_state>();
      r->user_id = std::move(user_id);
      // "Now" is fixed here, so a retry elsewhere generates for the same
      // instant.
      r->now_unix_s = st->opt.clock.or_now_unix_s(now_unix_s);
      r->deadline = steady_clock::now()
                    + milliseconds(timeout_ms > 0
                                     ? timeout_ms
                                     : st->opt.settings.route_timeout_ms);
      r->promise = self->make_response_promise<routed_generation>();
      route(self, st, r);
      return r->promise;
    },
    [=](atom::local, std::string& user_id, std::int64_t now_unix_s,
        std::int64_t timeout_ms) -> caf::result<routed_generation> {
      auto r = std::make_shared<route_state>();
      r->user_id = std::move(user_id);
      r->now_unix_s = st->opt.clock.or_now_unix_s(now_unix_s);
      auto limit = milliseconds(timeout_ms > 0
                                  ? timeout_ms
                                  : st->opt.settings.route_timeout_ms);
      r->deadline = steady_clock::now() + limit;
      r->promise = self->make_response_promise<routed_generation>();
      r->attempts = 1;
      r->tried.insert(st->opt.node_id);
      run_locally(self, st, r, limit);
      return r->promise;
    },
    [=](atom::status) -> node_status { return st->own_status(); },
    [=](atom::peers) -> std::vector<node_status> {
      std::vector<node_status> out{st->own_status()};
      for (auto& [address, p] : st->peers)
        if (p.status_known)
          out.push_back(p.status);
      return out;
    },
    [=](atom::connect, node_status& status, caf::actor& handle) {
      on_hello(self, st, status, handle);
    },
    [=](atom::pressure, node_status& status) {
      auto* peer = st->find_by_id(status.node_id);
      if (peer == nullptr)
        return; // not connected yet: its status comes with the hello
      status.heartbeat_age_ms = 0;
      peer->status = std::move(status);
      tell_dispatcher(self, *st);
    },
    [=](atom::pressure, const memory_status& m) {
      if (m.level == st->own_level)
        return;
      st->own_level = m.level;
      // Peers route and claim by it: tell them now, not next interval.
      auto own = st->own_status();
      for (auto& [address, p] : st->peers)
        self->send(p.handle, atom::pressure::value, own);
    },
    [=](atom::tick) { on_tick(self, st); },
  };
}

} // namespace catchup::cluster_detail
