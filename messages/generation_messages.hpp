// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "catchup/types.hpp"

namespace catchup {

/// A user's availability window: ISO weekday (1 = Monday) and minutes after
/// local midnight.
struct availability_record {
  std::int32_t weekday = 1;
  std::int32_t start_minute = 0;
  std::int32_t end_minute = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, availability_record& x) {
  return f(caf::meta::type_name("catchup::availability_record"), x.weekday,
           x.start_minute, x.end_minute);
}

/// A busy interval in Unix seconds.
struct busy_record {
  std::int64_t start_unix_s = 0;
  std::int64_t end_unix_s = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, busy_record& x) {
  return f(caf::meta::type_name("catchup::busy_record"), x.start_unix_s,
           x.end_unix_s);
}

/// What a generation needs to know about a user besides contacts.
struct user_context {
  std::string user_id;
  bool exists = false;
  /// IANA zone of the user.
  std::string timezone;
  /// Empty: the engine's default availability.
  std::vector<availability_record> availability;
  /// Busy events overlapping the slot window (bounded, see storage).
  std::vector<busy_record> busy;
  /// True when a pause covers "now".
  bool paused = false;
  /// The user's settings (users table); 0 in a slot or run setting means
  /// the engine's configured value, 0 cool-down one cadence period.
  std::int32_t default_cadence_days = 30;
  std::int32_t dismiss_cooldown_days = 0;
  std::int32_t slot_horizon_days = 0;
  std::int32_t slot_minutes = 0;
  std::int32_t slots_per_day = 0;
  std::int32_t suggestions_per_run = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_context& x) {
  return f(caf::meta::type_name("catchup::user_context"), x.user_id,
           x.exists, x.timezone, x.availability, x.busy, x.paused,
           x.default_cadence_days, x.dismiss_cooldown_days,
           x.slot_horizon_days, x.slot_minutes, x.slots_per_day,
           x.suggestions_per_run);
}

/// One suggestion as stored and shown.
struct suggestion_record {
  std::string id;
  std::string contact_id;
  std::string contact_name;
  std::int32_t rank = 0;
  double priority = 0;
  std::int64_t slot_start_unix_s = 0;
  std::int64_t slot_end_unix_s = 0;
  std::string slot_timezone;
  std::string reason;
  std::string status;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, suggestion_record& x) {
  return f(caf::meta::type_name("catchup::suggestion_record"), x.id,
           x.contact_id, x.contact_name, x.rank, x.priority,
           x.slot_start_unix_s, x.slot_end_unix_s, x.slot_timezone, x.reason,
           x.status);
}

/// Asks for one user's generation.
struct generation_request {
  std::string user_id;
  /// The "now" of the generation, Unix seconds.
  std::int64_t now_unix_s = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_request& x) {
  return f(caf::meta::type_name("catchup::generation_request"), x.user_id,
           x.now_unix_s);
}

/// What one user's generation did: the public figures (one definition,
/// catchup/types.hpp) and the suggestions as the store keeps them.
struct generation_result : generation_figures {
  /// The suggestions, best first.
  std::vector<suggestion_record> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_result& x) {
  return f(caf::meta::type_name("catchup::generation_result"), x.user_id,
           x.generation_id, x.contacts_read, x.batches, x.suggestions,
           x.free_slots, x.partial, x.paused, x.warnings, x.wall_ms, x.items);
}

/// What a multi-user run did, in total. Each user's own result goes to the
/// run's listener as the user finishes, so a run's memory does not grow
/// with its number of users.
struct run_summary {
  std::int64_t users = 0;
  /// Users whose generation failed (their result carries the reason).
  std::int64_t failed = 0;
  /// Users whose cap memory pressure reduced.
  std::int64_t partial = 0;
  std::int64_t paused = 0;
  std::int64_t contacts_read = 0;
  std::int64_t suggestions = 0;
  /// Times the circuit breaker held the run's remaining users.
  std::int64_t breaker_holds = 0;
  double wall_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_summary& x) {
  return f(caf::meta::type_name("catchup::run_summary"), x.users, x.failed,
           x.partial, x.paused, x.contacts_read, x.suggestions,
           x.breaker_holds, x.wall_ms);
}

/// A finished generation to persist: replaces the user's pending generated
/// suggestions in one transaction.
struct generation_output {
  generation_result result;
  std::int64_t now_unix_s = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_output& x) {
  return f(caf::meta::type_name("catchup::generation_output"), x.result,
           x.now_unix_s);
}

} // namespace catchup
