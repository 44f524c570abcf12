// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the files of the cluster membership (actors/cluster.hpp) share,
// private to actors/ and never installed: the cluster actor's state, the
// limits more than one file uses, and the functions one file calls in
// another. The membership is split by concern:
//
//   cluster.cpp             the cluster settings checked and loaded into
//                           CAF, joining and leaving the cluster, and the
//                           client (generate_via)
//   cluster_registry.cpp    the registry actor: the cluster's database
//                           calls, in a detached actor
//   cluster_dialling.cpp    reaching a node: a bounded TCP probe, then CAF's
//                           remote_actor (TLS unless insecure) in a
//                           detached connector per dial
//   cluster_membership.cpp  the cluster actor: peers dialled and greeted,
//                           heartbeats, pressure shared, peers that go down
//                           declared down and their jobs rescued
//   cluster_routing.cpp     interactive generations on the least-pressured
//                           node, this one or a peer, with one retry

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/cluster.hpp"
#include "storage/node_registry.hpp"

namespace catchup::cluster_detail {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

/// Upper bound of one database call of the registry actor, and of the
/// cluster actor's wait for it.
constexpr std::int64_t registry_statement_timeout_ms = 10000;
/// How long a connection attempt may take before the cluster actor gives
/// up on it (the connecting thread may stay blocked longer, in the kernel's
/// connect; the address is not dialled again until it ended).
constexpr std::int64_t connect_timeout_ms = 5000;

// -- the registry actor -------------------------------------------------------
// cluster_registry.cpp

std::string level_text(pressure_level level);

/// A node's status as the figures of its row (none negative).
storage::node_heartbeat heartbeat_of(const node_status& s);

/// The cluster's database calls, for a detached actor so they never stall
/// the scheduler: a heartbeat (answered with the rows of every node), a
/// peer declared down (its job leases ended), this node leaving.
caf::behavior registry_actor(caf::event_based_actor*, std::string url,
                             wall_clock clock, std::string node_id,
                             std::string version);

// -- dialling -----------------------------------------------------------------
// cluster_dialling.cpp

/// Whether `host:port` takes a TCP connection within `limit`: "" if it
/// does, else why not. CAF 0.17 connects without a time limit, inside its
/// middleman, so an address that drops SYNs would hold a dial (and what
/// queues behind it in the middleman) for the kernel's two minutes; this
/// probe bounds that. DNS resolution is not bounded by it.
std::string tcp_probe(const std::string& host, std::uint16_t port,
                      milliseconds limit);

/// One dial, for a detached actor (remote_actor blocks): answers one
/// atom::connect with the cluster actor at host:port, through TLS when
/// `tls`, and quits.
caf::behavior connector_actor(caf::event_based_actor* self, bool tls);

// -- the cluster actor --------------------------------------------------------

/// One interactive generation on its way through the cluster.
struct route_state {
  std::string user_id;
  std::int64_t now_unix_s = 0;
  steady_clock::time_point deadline;
  caf::typed_response_promise<routed_generation> promise;
  /// Nodes tried so far, by id.
  std::set<std::string> tried;
  std::int32_t attempts = 0;
  /// The peer (by address) the current attempt runs on; "" when local.
  std::string on_peer;
  /// Why the last attempt failed, for the final error.
  std::string last_failure;
  bool done = false;
};
using route_ptr = std::shared_ptr<route_state>;

struct peer_info {
  std::string address;
  cluster_node_actor handle;
  /// Empty until the peer said who it is.
  std::string node_id;
  node_status status;
  bool status_known = false;
  /// Routed generations running on it now.
  std::vector<route_ptr> routes;
};

struct cluster_state {
  cluster_options opt;
  bool tls = true;
  caf::actor registry;
  /// host:port this node registered; set by join_cluster after publishing.
  std::mutex address_mtx;
  std::string self_address;
  pressure_level own_level = pressure_level::normal;
  /// Connected peers by the address we reached them at.
  std::map<std::string, peer_info> peers;
  /// Addresses a connection attempt runs for, until its connector thread
  /// ended (a connect the kernel still waits on keeps its address here, so
  /// a dead address never holds more than one thread).
  std::set<std::string> connecting;
  /// The connector actors, by address, to clear `connecting` when they end.
  std::map<caf::actor_addr, std::string> connectors;
  /// Addresses whose last attempt failed: when to try again (the wait
  /// doubles up to `retry_wait_max`), and whether the failure was logged.
  struct retry {
    steady_clock::time_point not_before;
    milliseconds wait{0};
  };
  std::map<std::string, retry> unreachable;
  /// One heartbeat at a time: a slow database must not pile them up.
  bool heartbeat_in_flight = false;
  std::vector<std::string> seeds;
  /// The lowest peer level last told to the dispatcher (-2: never told).
  std::int32_t told_lowest = -2;
  /// Nodes this node declared down and not seen up since.
  std::set<std::string> declared_down;
  /// When the next membership tick is due, and until when this node
  /// counts as just resumed from a stall (see `stalled`).
  steady_clock::time_point next_tick_due = steady_clock::now();
  steady_clock::time_point stalled_until{};

  /// True while this node itself was, or just was, not running (SIGSTOP,
  /// a VM pause, heavy swapping): its connections then time out on its
  /// side too, and the peers at their other ends are alive. Declaring
  /// them down would end their leases for nothing.
  bool stalled() const {
    auto now = steady_clock::now();
    auto slack = milliseconds(opt.settings.peer_timeout_ms / 2);
    return now < stalled_until || now > next_tick_due + slack;
  }

  std::string address() {
    std::lock_guard<std::mutex> lock{address_mtx};
    return self_address;
  }

  node_status own_status() {
    node_status s = opt.self_status ? opt.self_status() : node_status{};
    s.node_id = opt.node_id;
    s.address = address();
    s.version = opt.version;
    s.state = "up";
    // The supervisor's broadcast is the newest word on the level.
    s.level = std::max(s.level, own_level);
    s.heartbeat_age_ms = 0;
    return s;
  }

  peer_info* find_by_handle(const caf::actor_addr& addr) {
    for (auto& [address, p] : peers)
      if (p.handle.address() == addr)
        return &p;
    return nullptr;
  }

  peer_info* find_by_id(const std::string& id) {
    for (auto& [address, p] : peers)
      if (p.node_id == id)
        return &p;
    return nullptr;
  }
};
using cluster_ptr = std::shared_ptr<cluster_state>;
using cluster_self = cluster_node_actor::pointer;

// -- membership ---------------------------------------------------------------
// cluster_membership.cpp

/// The published cluster actor: its peers, their pressure and its own, and
/// the entry to routing.
cluster_node_actor::behavior_type cluster_actor(cluster_self self,
                                                cluster_ptr st);

// -- routing ------------------------------------------------------------------
// cluster_routing.cpp

/// Runs `r` on the least-pressured node not tried yet, or fails it when
/// its time, its attempts or the candidates ran out.
void route(cluster_self self, const cluster_ptr& st, const route_ptr& r);

/// Runs `r` on this node's coordinator.
void run_locally(cluster_self self, const cluster_ptr& st,
                 const route_ptr& r, milliseconds remaining);

} // namespace catchup::cluster_detail
