// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/priority.hpp"
#include "messages/contact.hpp"
#include "messages/generation.hpp"

namespace catchup::storage {

/// Upper bound on busy events read for one user's slot window; a calendar
/// with more events in 14 days than this is treated as fully busy after it.
inline constexpr std::size_t busy_events_max = 5000;

/// Upper bound on rows in one pulled batch.
inline constexpr std::size_t batch_rows_limit = 10000;

/// The ranking view of a streamed contact at `now_unix_s` (days since the
/// last contact and priority computed); the one place that maps the wire
/// record's frequency code and last-contact flag to core's types.
candidate to_candidate(const contact_record& record, std::int64_t now_unix_s);

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
  /// be suggested (not archived, not excluded, no accepted upcoming or
  /// snoozed suggestion), in the total order of suggestions.
  static stream_cursor open_priority(std::string user_id,
                                     std::int64_t now_unix_s);

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

  /// The user's suggestions with `status` ("pending", ...), best first.
  std::vector<suggestion_record> read_suggestions(const std::string& user_id,
                                                  const std::string& status);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace catchup::storage
