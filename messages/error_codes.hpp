// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace catchup {

/// Error codes of the engine. Values are stable and never reused, because
/// they cross node boundaries inside `caf::error`.
enum class ec : std::uint8_t {
  /// Not an error.
  none = 0,
  /// The database could not be reached; retrying later may succeed.
  db_unavailable = 1,
  /// A serialization failure or deadlock; the operation may be retried.
  db_conflict = 2,
  /// The commit outcome is unknown; never retried automatically.
  db_outcome_unknown = 3,
  /// Any other SQL error; the context carries the SQLSTATE and message.
  db_query_failed = 4,
  /// The database schema is newer than this engine knows.
  schema_too_new = 5,
  /// The database schema is older than this engine needs.
  schema_too_old = 6,
  /// Configuration is invalid; the context names key, value and source.
  invalid_config = 10,
  /// A request named something that does not exist (user, contact, stream).
  not_found = 15,
  /// Input data is malformed; the context says where and why.
  invalid_input = 20,
  /// Memory pressure is critical; new work is refused.
  memory_critical = 25,
  /// The engine is shutting down; new work is refused.
  shutting_down = 30,
  /// The request contradicts the current state (a suggestion already
  /// responded to, a slot overlapping an accepted one); the context names
  /// what is in the way. Retrying the same request fails the same way.
  conflict = 35,
  /// An operation ran past its time limit (a generation past
  /// generation.user_timeout, a request whose answer did not come).
  timeout = 40,
  /// No node can take the work now (every reachable one is at critical
  /// pressure, or the ones tried failed); another try later may succeed.
  unavailable = 45,
};

/// Returns the enumerator's name, e.g. "db_unavailable".
std::string to_string(ec code);

} // namespace catchup

CAF_ERROR_CODE_ENUM(catchup::ec, "catchup")
