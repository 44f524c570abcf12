// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/priority.hpp"
#include "messages/contact.hpp"
#include "messages/generation_messages.hpp"

namespace catchup::storage {

/// Upper bound on busy events read for one user's slot window; a calendar
/// with more events in 14 days than this is treated as fully busy after it.
inline constexpr std::size_t busy_events_max = 5000;

/// Upper bound on rows in one pulled batch.
inline constexpr std::size_t batch_rows_limit = 10000;

/// Upper bound on a user's (cadence, importance) classes, which a priority
/// stream scans one by one: every combination the schema allows (cadence
/// 0..3650, five weights), so the bound is structural.
inline constexpr std::size_t priority_classes_max = 3651 * 5;

/// Latest a suggestion may be snoozed to, in seconds past "now" (90 days):
/// a reminder further out is a decision, not a snooze, and a bound keeps a
/// typo (a year for a day) from hiding a contact for good.
inline constexpr std::int64_t snooze_seconds_max = 90 * 86400;

/// Upper bound on a dismissal reason, in bytes.
inline constexpr std::size_t dismissal_reason_bytes_max = 1000;

/// How a user answers one of their suggestions.
enum class suggestion_action : std::uint8_t { accept, dismiss, snooze };

/// "accept", "dismiss" or "snooze".
std::string to_string(suggestion_action action);

/// A user's answer to one of their suggestions.
struct suggestion_response {
  std::string user_id;
  std::string suggestion_id;
  suggestion_action action = suggestion_action::accept;
  /// Snooze: until when, Unix seconds; after `now_unix_s` and at most
  /// snooze_seconds_max past it.
  std::int64_t snooze_until_unix_s = 0;
  /// Dismiss: why, in the user's words (optional; at most
  /// dismissal_reason_bytes_max bytes). Stored as the dismissal reason.
  std::string reason;
  /// Dismiss: the user met the contact recently, so the contact's last
  /// contact date moves to `now_unix_s` (forward only).
  bool met_recently = false;
  /// "Now", Unix seconds (> 0): the response time, the new last contact
  /// date, and the instant an earlier snooze must have passed.
  std::int64_t now_unix_s = 0;
};

/// What a response did.
struct respond_result {
  /// The suggestion as stored afterwards: status "accepted", "dismissed"
  /// or "snoozed".
  suggestion_record suggestion;
  /// Snooze: until when, Unix seconds; 0 for the other actions.
  std::int64_t snoozed_until_unix_s = 0;
  /// True when the contact's last contact date moved forward to "now"
  /// (accept, or dismiss with met_recently, of a contact not met since).
  bool last_contact_moved = false;
};

/// A streamed contact's cadence as core ranks it: its own, else its
/// groups', else the user's `default_cadence_days`, with its weight.
contact_cadence cadence_of(const contact_record& record,
                           std::int32_t default_cadence_days);

/// The ranking view of a streamed contact at `now_unix_s` (days since its
/// due reference, score and priority computed); the one place that maps
/// the wire record's codes and flags to core's types.
candidate to_candidate(const contact_record& record, std::int64_t now_unix_s,
                       std::int32_t default_cadence_days);

/// One database connection and the engine's queries on it. Synchronous and
/// not thread-safe: each repository worker actor owns exactly one.
class session {
public:
  /// Connects and prepares statements. Every statement on this session is
  /// cancelled by the server after `statement_timeout_ms` (the limit of one
  /// database call; a cancelled one fails with SQLSTATE 57014).
  /// @throws storage_error(db_unavailable) if the server cannot be reached.
  explicit session(const std::string& url,
                   std::int64_t statement_timeout_ms = 60000);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Starts a stream over `user_id`'s non-archived contacts.
  static stream_cursor open_ordered(std::string user_id, contact_order order,
                                    bool descending, bool full_projection);

  /// Starts the priority stream: due contacts of `user_id` at `now` that may
  /// be suggested (not archived, paused or excluded, no accepted upcoming
  /// or snoozed suggestion, no dismissal within the cool-down), in the
  /// total order of suggestions. `default_cadence_days` is the user's
  /// default cadence; `dismiss_cooldown_days` their cool-down (0: one
  /// cadence period).
  static stream_cursor open_priority(std::string user_id,
                                     std::int64_t now_unix_s,
                                     std::int32_t default_cadence_days = 30,
                                     std::int32_t dismiss_cooldown_days = 0);

  /// Starts a bulk stream: like `open_ordered`, but read through one
  /// server-side cursor (see `next_bulk`).
  static stream_cursor open_bulk(std::string user_id, contact_order order,
                                 bool descending, bool full_projection);

  /// Reads the next at most `n` rows of a bulk stream. The first call opens
  /// a read-only transaction and a cursor in it, so every batch comes from
  /// one snapshot; the stream is closed when it is done. While a bulk
  /// stream is open, this session serves nothing else (the repository pins
  /// its worker). `n` is clamped to 1..batch_rows_limit.
  /// @throws storage_error on database failure (the stream is closed).
  contact_batch next_bulk(const stream_cursor& cursor, std::size_t n);

  /// Ends an open bulk stream (no-op if none is open).
  void close_bulk() noexcept;

  /// The id of the open bulk stream, 0 if none.
  std::uint64_t open_bulk_id() const noexcept;

  /// Reads the next at most `n` rows after `cursor` (keyset pagination,
  /// never OFFSET). `n` is clamped to 1..batch_rows_limit.
  /// @throws storage_error on database failure.
  contact_batch next_batch(const stream_cursor& cursor, std::size_t n);

  /// Reads a user's timezone, availability, busy time in
  /// [now, now + window_days) (unless `with_busy` is false: then read it
  /// with `load_busy`, e.g. through a cache) and pause state.
  user_context load_user_context(const std::string& user_id,
                                 std::int64_t now_unix_s,
                                 std::int64_t window_days,
                                 bool with_busy = true);

  /// A user's busy calendar intervals overlapping [from, to), by start, at
  /// most busy_events_max; past that limit the rest of the window counts
  /// as busy (one interval to `to`).
  std::vector<busy_record> load_busy(const std::string& user_id,
                                     std::int64_t from_unix_s,
                                     std::int64_t to_unix_s);

  /// One contact of `user_id` by id (full projection), archived ones too.
  /// @throws storage_error(not_found) if the user has no such contact.
  contact_record read_contact(const std::string& user_id,
                              const std::string& contact_id);

  /// Ids of all users (only active ones if `active_only`), by id.
  std::vector<std::string> list_users(bool active_only);

  /// Persists a generation in one transaction: a generation record, the
  /// user's pending timebound suggestions replaced by `out`'s items.
  /// @returns the generation id.
  std::string save_generation(const generation_output& out);

  /// The user's suggestions with `status` ("pending", ...), earliest slot
  /// first. A snoozed suggestion whose snooze has passed by `now_unix_s`
  /// counts as pending, and is listed with that status.
  std::vector<suggestion_record> read_suggestions(const std::string& user_id,
                                                  const std::string& status,
                                                  std::int64_t now_unix_s);

  /// Records a user's answer to one of their suggestions, in one
  /// transaction. The suggestion must be the user's and open: pending, or
  /// snoozed with the snooze passed at `now`. Accept sets it accepted,
  /// unless another accepted suggestion of the user has a slot overlapping
  /// its slot (checked under a lock on the user's row, so two concurrent
  /// accepts of overlapping slots cannot both succeed). Dismiss sets it
  /// dismissed with the reason; snooze sets it snoozed until the given
  /// time. Each stores `now` as the response time; accept, and dismiss with
  /// met_recently, move the contact's last contact date forward to `now`.
  /// @throws storage_error: invalid_input (malformed ids, no "now", a
  /// snooze not in (now, now + snooze_seconds_max], a reason too long),
  /// not_found (no such user, or no such suggestion of the user), conflict
  /// (not open: the message names its status; or an overlapping accepted
  /// slot: the message names that suggestion), db_*.
  respond_result respond_to_suggestion(const suggestion_response& response);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace catchup::storage
