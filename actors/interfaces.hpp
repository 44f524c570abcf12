// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/cache_messages.hpp"
#include "messages/contact.hpp"
#include "messages/generation_messages.hpp"
#include "messages/memory_messages.hpp"
#include "messages/cluster_messages.hpp"

namespace catchup {

/// The STREAMING REPOSITORY: owns a bounded set of database connections and
/// serves pulls. Every request is independent (the cursor travels with it),
/// so no puller ever holds a connection while it waits.
using repository_actor = caf::typed_actor<
  // Reads at most N rows after the cursor; the reply carries the next one.
  caf::replies_to<atom::next, stream_cursor, std::uint64_t>::with<
    contact_batch>,
  // Ends a stream before it is done (frees a bulk stream's connection).
  caf::reacts_to<atom::close, stream_cursor>,
  // Internal: the idle check of bulk stream (id, activity tick).
  caf::reacts_to<atom::close, std::uint64_t, std::uint64_t>,
  // Reads a user's timezone, availability, pause state and (if the flag is
  // set) busy time for [now, now + window days).
  caf::replies_to<atom::context, std::string, std::int64_t, std::int64_t,
                  bool>::with<user_context>,
  // Reads a user's busy intervals overlapping [from, to).
  caf::replies_to<atom::busy, std::string, std::int64_t, std::int64_t>::with<
    std::vector<busy_record>>,
  // Reads one contact of a user by id (not_found if none).
  caf::replies_to<atom::contact, std::string, std::string>::with<
    contact_record>,
  // Lists user ids; true: active users only.
  caf::replies_to<atom::users, bool>::with<std::vector<std::string>>,
  // Persists a generation; replies with its id.
  caf::replies_to<atom::save, generation_output>::with<std::string>,
  // Reads a user's suggestions with the given status at "now" (Unix s: a
  // snooze passed by then counts as pending).
  caf::replies_to<atom::read, std::string, std::string, std::int64_t>::with<
    std::vector<suggestion_record>>,
  // A memory pressure change: batches served shrink to the level's size.
  caf::reacts_to<atom::pressure, memory_status>>;

/// The CACHE actor: owns the engine's three bounded LRU caches (contacts by
/// id, busy calendar intervals per user and window, pending suggestions per
/// user) and reads through the repository on a miss. Writers invalidate
/// what they change before they report success, so a read that follows a
/// write never sees older data.
using cache_actor = caf::typed_actor<
  // A user's suggestions with a status at "now" (Unix s); "pending" ones
  // are cached.
  caf::replies_to<atom::read, std::string, std::string, std::int64_t>::with<
    std::vector<suggestion_record>>,
  // A user's busy intervals overlapping [from, to).
  caf::replies_to<atom::busy, std::string, std::int64_t, std::int64_t>::with<
    std::vector<busy_record>>,
  // One contact of a user by id.
  caf::replies_to<atom::contact, std::string, std::string>::with<
    contact_record>,
  // Drops the given caches' entries of a user ("" = of every user).
  caf::reacts_to<atom::invalidate, std::uint8_t, std::string>,
  // A memory pressure change: every cache shrinks to the level's share.
  caf::reacts_to<atom::pressure, memory_status>,
  // The caches' figures.
  caf::replies_to<atom::status>::with<std::vector<cache_figures>>>;

/// The GENERATION COORDINATOR: runs generations with bounded concurrency.
/// A multi-user run sends each user's result (without its items: the
/// suggestions are in the database) to the run's listener as
/// (progress, result, done, total) when the user finishes, and replies
/// with totals, so the coordinator's memory does not grow with the users.
using coordinator_actor = caf::typed_actor<
  // Generates for one user at "now".
  caf::replies_to<atom::generate, generation_request>::with<generation_result>,
  // Generates for every active user at "now"; results go to the listener
  // (may be invalid).
  caf::replies_to<atom::generate, std::int64_t, caf::actor>::with<
    run_summary>,
  // Generates for the listed users at "now", same reports.
  caf::replies_to<atom::generate, std::vector<std::string>, std::int64_t,
                  caf::actor>::with<run_summary>,
  // A memory pressure change: concurrency and caps follow the level; at
  // critical the circuit breaker holds new work.
  caf::reacts_to<atom::pressure, memory_status>,
  // Internal: retries work held by the circuit breaker.
  caf::reacts_to<atom::retry>,
  // Internal: the watchdog of running generations.
  caf::reacts_to<atom::tick>>;

} // namespace catchup
