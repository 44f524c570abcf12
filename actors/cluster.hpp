// SPDX-License-Identifier: Apache-2.0
#pragma once

// Cluster membership over CAF's own distribution layer. Each node publishes
// one `cluster_node_actor` (TLS through caf::openssl unless the cluster is
// explicitly insecure), writes its row in the `nodes` table every
// membership interval, connects to every peer it finds there or among the
// seeds, monitors each one and tells each its status. A peer that goes
// down (a closed socket at once, a hung one after CAF's connection
// timeout) has its job leases ended, so the next claim of any node rescues
// those jobs instead of waiting for the leases to run out. Interactive
// generations run on the least-pressured reachable node.
//
// PostgreSQL stays the single durable truth: the table is how nodes find
// each other and what `catchup cluster status` shows; nothing in it is
// needed for correctness, which rests on the job leases.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/typed_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/memory_supervisor.hpp"
#include "core/clock.hpp"
#include "config/settings.hpp"
#include "messages/atoms.hpp"
#include "messages/cluster_messages.hpp"
#include "messages/generation_messages.hpp"

namespace catchup {

/// What one node offers its peers and remote clients. Every type here is
/// in the type-ID block (messages/type_ids.hpp): an unregistered one would
/// arrive as an empty message.
using cluster_node_actor = caf::typed_actor<
  // Generates for a user at "now" (0: the clock) on the least-pressured
  // reachable node, this one or a peer; if that node fails, once more on
  // another. The answer, or an error, comes within timeout_ms.
  caf::replies_to<atom::generate, std::string, std::int64_t,
                  std::int64_t>::with<routed_generation>,
  // Generates here, never forwarded (what a routing node asks its pick).
  caf::replies_to<atom::local, std::string, std::int64_t,
                  std::int64_t>::with<routed_generation>,
  // This node's status.
  caf::replies_to<atom::status>::with<node_status>,
  // This node's view: itself first, then every connected peer.
  caf::replies_to<atom::peers>::with<std::vector<node_status>>,
  // A peer that dialled this node introduces itself, so this node
  // monitors it too (one connection per pair: the lower id dials).
  caf::reacts_to<atom::connect, node_status, caf::actor>,
  // A peer's status, sent by every connected peer each interval.
  caf::reacts_to<atom::pressure, node_status>,
  // This node's own pressure changes (from its memory supervisor).
  caf::reacts_to<atom::pressure, memory_status>,
  // Internal: the membership interval.
  caf::reacts_to<atom::tick>>;

/// The cluster settings a node or client needs to talk to nodes.
/// @throws std::invalid_argument saying what is missing and why: a
/// heartbeat longer than half the peer timeout (idle peers would be
/// declared down), TLS
/// without all of cluster.tls.cert, .key and .ca (CAF 0.17 would silently
/// fall back to anonymous, unauthenticated TLS) unless cluster.insecure,
/// or a file that cannot be read.
void check_cluster_security(const config::cluster_settings& c);

/// Loads CAF's middleman (and caf::openssl unless insecure) into `cfg`,
/// with heartbeats and the connection timeout that make a hung peer
/// noticed, and the node's certificates. Call before the actor system is
/// made; `check_cluster_security` first.
void configure_cluster_network(caf::actor_system_config& cfg,
                               const config::cluster_settings& c);

/// What the cluster actor needs from its node.
struct cluster_options {
  config::cluster_settings settings;
  /// This node's name, the same as its job leases' owner.
  std::string node_id;
  std::string database_url;
  /// The engine's clock: "now" of routed generations.
  wall_clock clock;
  std::string version;
  /// Runs one generation here (the engine's coordinator).
  coordinator_actor coordinator;
  /// Told the lowest level among live peers (atom::peers, int32; -1 for
  /// none) and woken (atom::wake) after a rescue. May be invalid.
  caf::actor dispatcher;
  /// Told this node's pressure changes. May be invalid.
  memory_supervisor_actor supervisor;
  /// This node's status now (memory, jobs in flight); called on the
  /// cluster actor's thread.
  std::function<node_status()> self_status;
};

/// What a running cluster membership is: the actor and the address it is
/// published at.
struct cluster_membership {
  cluster_node_actor node;
  /// host:port the node registered (advertise host, bound port).
  std::string address;
  std::uint16_t port = 0;
  bool tls = true;
  std::string node_id;
  std::string database_url;
  /// The actor that makes the cluster's database calls.
  caf::actor registry;
};

/// Publishes this node, registers it and starts connecting to peers. The
/// system must have been configured by `configure_cluster_network`.
/// @throws std::runtime_error if the endpoint cannot be published (the
/// port is taken, the certificates do not load).
cluster_membership join_cluster(caf::actor_system& sys,
                                cluster_options options);

/// Leaves the cluster: unpublishes the node and stops its actors. Graceful
/// (its jobs were handed back already): the row says left and peers rescue
/// nothing. Otherwise peers see it die and rescue its jobs. No-op for an
/// empty membership. Blocks the caller for at most the registry's
/// statement timeout.
void leave_cluster(caf::actor_system& sys, const cluster_membership& m,
                   bool graceful = true);

/// Splits "host:port" (the port 1..65535).
/// @throws std::invalid_argument naming the address and what is wrong.
std::pair<std::string, std::uint16_t>
split_address(const std::string& address);

/// Connects to the node at `address` as a client (its own actor system,
/// configured from `settings`), asks it to generate for `user_id` at
/// `now_unix_s` (0: the node's clock) within `timeout`, and returns where
/// it ran. @throws engine_error(timeout) when no answer came in time (or
/// the node's own generation ran out of time); std::runtime_error with
/// what failed otherwise: the address, the connection (refused, TLS
/// handshake refused), or the engine's error (not found, memory critical
/// everywhere).
routed_generation generate_via(const config::cluster_settings& settings,
                               const std::string& address,
                               const std::string& user_id,
                               std::int64_t now_unix_s,
                               std::chrono::milliseconds timeout);

} // namespace catchup
