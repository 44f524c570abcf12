// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"

namespace catchup {

/// What a node knows about its environment when it starts.
struct node_config {
  /// Schema version of the database the node runs against.
  std::int64_t schema_version = 0;
  /// True when the node runs on its own private PostgreSQL cluster.
  bool embedded_database = false;
};

/// Spawns the root actor of an engine in `sys`.
node_actor spawn_node(caf::actor_system& sys, const node_config& cfg);

/// The engine's version string ("0.1.0").
const char* engine_version();

} // namespace catchup
