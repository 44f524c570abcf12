// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"
#include "core/pressure.hpp"

namespace catchup {

/// Limits of the streaming repository.
struct repository_config {
  /// Connection URL of the database.
  std::string url;
  /// Database connections, each owned by one detached worker thread.
  std::size_t connections_max = 4;
  /// Requests waiting for a free connection, at most; more are refused
  /// with `ec::db_unavailable` instead of queueing without bound.
  std::size_t queued_requests_max = 100000;
  /// Upper bound for one database call, enforced by the server
  /// (statement_timeout). Actors wait for workers without a timer: in CAF
  /// 0.17 a request's timeout entry lives until it expires even after the
  /// reply, so per-request timers would hold memory in proportion to the
  /// request rate times the timeout.
  std::chrono::milliseconds request_timeout{60000};
  /// Bulk streams (server-side cursors) open at once, each holding a
  /// connection; 0 means connections_max - 1 (at least 1), so keyset
  /// streams always keep a connection. More are refused.
  std::size_t bulk_streams_max = 0;
  /// A bulk stream not pulled for this long is closed and its connection
  /// freed; a later pull gets `ec::not_found`.
  std::chrono::milliseconds bulk_idle_timeout{30000};
  /// The engine's pressure policy: at normal pressure a pull gets the rows
  /// it asked for; when pressure rises, every batch served is cut to the
  /// level's batch size (see core/pressure.hpp), whatever the puller
  /// asked for.
  pressure_policy_table policy;
};

/// Spawns the streaming repository: a scheduled front actor that hands each
/// request to an idle worker (a detached actor owning one connection) or
/// queues it. Blocking libpqxx calls run only on the workers' own threads.
/// Subscribe it to the memory supervisor to make it follow pressure levels.
repository_actor spawn_repository(caf::actor_system& sys,
                                  const repository_config& cfg);

} // namespace catchup
