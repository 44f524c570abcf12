// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/atom.hpp>

/// Atoms of the engine's typed interfaces (10 characters at most each).
namespace catchup::atom {

/// Asks an actor to describe itself.
using status = caf::atom_constant<caf::atom("status")>;
/// Pulls the next batch of a contact stream.
using next = caf::atom_constant<caf::atom("next")>;
/// Reads a user's generation context.
using context = caf::atom_constant<caf::atom("context")>;
/// Lists users.
using users = caf::atom_constant<caf::atom("users")>;
/// Persists a generation.
using save = caf::atom_constant<caf::atom("save")>;
/// Reads a user's suggestions.
using read = caf::atom_constant<caf::atom("read")>;
/// Generates suggestions for one user or all users.
using generate = caf::atom_constant<caf::atom("generate")>;
/// Closes a bulk stream early.
using close = caf::atom_constant<caf::atom("close")>;
/// Reports progress of a multi-user run.
using progress = caf::atom_constant<caf::atom("progress")>;
/// Subscribes an actor to memory pressure changes.
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
/// Takes a memory sample now.
using sample = caf::atom_constant<caf::atom("sample")>;
/// Carries a memory pressure change to a subscriber.
using pressure = caf::atom_constant<caf::atom("pressure")>;
/// A periodic timer message to the actor itself.
using tick = caf::atom_constant<caf::atom("tick")>;
/// Retries work that was held back.
using retry = caf::atom_constant<caf::atom("retry")>;
/// Reads a user's busy calendar intervals.
using busy = caf::atom_constant<caf::atom("busy")>;
/// Reads one contact by id.
using contact = caf::atom_constant<caf::atom("contact")>;
/// Drops cached data that a write changed.
using invalidate = caf::atom_constant<caf::atom("invalidate")>;
/// A job (or run) ended; carries its id and an error text ("" = success).
using done = caf::atom_constant<caf::atom("done")>;
/// Wakes an idle dispatcher: new work may be waiting.
using wake = caf::atom_constant<caf::atom("wake")>;
/// Asks a worker to stop claiming and finish or hand back its work.
using stop = caf::atom_constant<caf::atom("stop")>;
/// Renews the leases of the jobs a node runs; writes a node's row.
using heartbeat = caf::atom_constant<caf::atom("heartbeat")>;
/// Runs work on this node, never forwarded to a peer.
using local = caf::atom_constant<caf::atom("local")>;
/// Asks for, or carries, what a node knows about its peers.
using peers = caf::atom_constant<caf::atom("peers")>;
/// A peer went down: record it and rescue its jobs.
using down = caf::atom_constant<caf::atom("down")>;
/// Connects to a peer.
using connect = caf::atom_constant<caf::atom("connect")>;
/// A node leaves the cluster (graceful stop).
using leave = caf::atom_constant<caf::atom("leave")>;

} // namespace catchup::atom
