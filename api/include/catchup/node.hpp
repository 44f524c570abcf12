// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Actor-level integration for hosts that run their own CAF 0.17 actor
/// system: the engine as one typed actor, the node, spawned into the
/// host's system. Link `Catchup::node` (which brings CAF) to use it; hosts
/// of the plain facade (catchup/engine.hpp) never see CAF.
///
/// Message interface of `node_actor` (every request may instead fail with
/// a caf::error of category "catchupapi" whose code is an error_code and
/// whose context is the message; `to_error` converts it):
///
/// | request                                          | reply                     |
/// |--------------------------------------------------|---------------------------|
/// | (status)                                         | node_info                 |
/// | (generate, user_id, now_unix_s)                  | generation_summary        |
/// | (genall, now_unix_s)                             | run_totals                |
/// | (suggest, user_id)                               | std::vector<suggestion>   |
/// | (respond, suggestion_response)                   | suggestion                |
/// | (memory)                                         | memory_snapshot           |
/// | (subscribe, caf::actor)                          | bool                      |
///
/// `now_unix_s` 0 means the engine's clock (engine_config::clock_unix_ms).
/// A subscriber receives (pressure, memory_snapshot) with the current
/// reading at once, then on every change of the memory level, until it
/// exits.
/// Requests are served without blocking the host's scheduler: generation
/// and reads are forwarded to the engine's actors, database writes run on
/// the node's own detached threads (at most 4 at once).
///
/// Lifetime: the node owns its engine. Send it an exit message
/// (caf::exit_reason::user_shutdown) before the host's actor system ends;
/// it then stops the engine's actors and, for a private database, the
/// database server.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "catchup/engine.hpp"
#include "catchup/error.hpp"
#include "catchup/export.hpp"
#include "catchup/types.hpp"

/// Atoms of the node's interface (CAF atoms: 10 characters at most).
namespace catchup::node_atoms {

using status = caf::atom_constant<caf::atom("status")>;
using generate = caf::atom_constant<caf::atom("generate")>;
using genall = caf::atom_constant<caf::atom("genall")>;
using suggest = caf::atom_constant<caf::atom("suggest")>;
using respond = caf::atom_constant<caf::atom("respond")>;
using memory = caf::atom_constant<caf::atom("memory")>;
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
using pressure = caf::atom_constant<caf::atom("pressure")>;

} // namespace catchup::node_atoms

namespace catchup {

/// What a node says about itself.
struct node_info {
  /// "host:pid".
  std::string node_id;
  /// The engine library's version (catchup::version()).
  std::string version;
  /// Schema version of the database the node runs against.
  std::int64_t schema_version = 0;
  /// True when the node owns a private PostgreSQL cluster.
  bool embedded_database = false;
};

/// The node: the engine as one typed actor (see the table above).
using node_actor = caf::typed_actor<
  caf::replies_to<node_atoms::status>::with<node_info>,
  caf::replies_to<node_atoms::generate, std::string,
                  std::int64_t>::with<generation_summary>,
  caf::replies_to<node_atoms::genall, std::int64_t>::with<run_totals>,
  caf::replies_to<node_atoms::suggest, std::string>::with<
    std::vector<suggestion>>,
  caf::replies_to<node_atoms::respond, suggestion_response>::with<suggestion>,
  caf::replies_to<node_atoms::memory>::with<memory_snapshot>,
  caf::replies_to<node_atoms::subscribe, caf::actor>::with<bool>>;

/// Registers the node's message types and its error category in a host's
/// actor system config. Call it before the actor system is constructed;
/// without it, messages to a node published over the network arrive empty.
CATCHUP_API void add_node_types(caf::actor_system_config& cfg);

/// Opens an engine as `engine::open` does and spawns its node into `sys`.
/// Blocks while the database opens (a private cluster's first start runs
/// initdb: seconds). @returns the node, or the error `engine::open` would
/// return.
CATCHUP_API result<node_actor> spawn_node(caf::actor_system& sys,
                                          const engine_config& config);

/// Converts an error a node replied with; other CAF errors become
/// `internal` with CAF's rendering as message.
CATCHUP_API error to_error(const caf::error& err);

// -- serialization (0.17-style inspect) ----------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("catchup.node_info"), x.node_id, x.version,
           x.schema_version, x.embedded_database);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, suggestion& x) {
  return f(caf::meta::type_name("catchup.suggestion"), x.id, x.contact_id,
           x.contact_name, x.rank, x.priority, x.slot_start_unix_s,
           x.slot_end_unix_s, x.slot_timezone, x.reason, x.status);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_summary& x) {
  return f(caf::meta::type_name("catchup.generation_summary"), x.user_id,
           x.generation_id, x.contacts_read, x.suggestions, x.free_slots,
           x.partial, x.paused, x.warnings, x.wall_ms, x.items, x.batches);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_totals& x) {
  return f(caf::meta::type_name("catchup.run_totals"), x.users, x.failed,
           x.partial, x.paused, x.contacts_read, x.suggestions,
           x.breaker_holds, x.wall_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, suggestion_response& x) {
  return f(caf::meta::type_name("catchup.suggestion_response"), x.user_id,
           x.suggestion_id, x.action, x.snooze_until_unix_s, x.reason,
           x.met_recently, x.now_unix_s);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_snapshot& x) {
  return f(caf::meta::type_name("catchup.memory_snapshot"), x.level,
           x.heap_bytes, x.resident_bytes, x.budget_bytes, x.used_percent);
}

} // namespace catchup

CAF_ERROR_CODE_ENUM(catchup::error_code, "catchupapi")
