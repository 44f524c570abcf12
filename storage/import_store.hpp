// SPDX-License-Identifier: Apache-2.0
#pragma once

// Page-transactional writes of contact and calendar imports: each page is
// staged with COPY and merged into its tables together with the import's
// cursor, in one transaction, so an import killed at any point and run again
// ends with the same rows as one that was never interrupted.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/calendar_event.hpp"
#include "core/imported_contact.hpp"

namespace catchup::storage {

/// Where imported rows come from and where their progress is kept.
struct import_target {
  std::string user_id;
  /// The rows' `source`: "vcard", "csv", "ical" or "google".
  std::string source;
  /// The sync_state source: "vcard", "csv", "ical", "google_contacts",
  /// "google_calendar".
  std::string state_source;
  /// The resource within the source: the file's absolute path, or the
  /// Google calendar id ("primary"); "" for Google contacts.
  std::string resource;
  /// Calendar imports: the calendar_id the events are filed under.
  std::string calendar_id;
  /// The import's "now" (the engine's clock): when new contacts count as
  /// added, and when synced; 0 means the database server's clock.
  std::int64_t now_unix_s = 0;
};

/// The stored progress of one import (sync_state).
struct import_progress {
  bool exists = false;
  /// "idle", "running", "succeeded" or "failed".
  std::string status;
  /// Where an interrupted run resumes (JSON), "" when none.
  std::string resume_cursor;
  /// The source's sync token of the last complete sync, "" when none.
  std::string sync_token;
  std::int64_t items_synced = 0;
  std::string last_error;
};

/// What merging one page did.
struct page_outcome {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t deleted = 0;
  /// Contacts whose last contact date a past event moved forward.
  std::int64_t last_contact_moved = 0;
  /// Items the database refused for their data, by index in the page, with
  /// why; the page's other items were merged (see isolate_failing_items).
  struct item_failure {
    std::size_t index = 0;
    std::string reason;
  };
  std::vector<item_failure> failed;
};

/// The cursor written with a page: the JSON `resume_cursor` and the items
/// done so far in this run.
struct page_cursor {
  std::string resume_cursor;
  std::int64_t items_done = 0;
};

/// One database connection for imports. Synchronous and not thread-safe:
/// one sync actor owns one.
class import_store {
public:
  /// @throws storage_error(db_unavailable) if the server cannot be reached.
  explicit import_store(const std::string& url,
                        std::int64_t statement_timeout_ms = 60000);
  ~import_store();
  import_store(const import_store&) = delete;
  import_store& operator=(const import_store&) = delete;

  /// Checks that the user exists.
  /// @throws storage_error(not_found) if not.
  void check_user(const std::string& user_id);

  /// The stored progress of `target` (exists = false if never run).
  import_progress read_progress(const import_target& target);

  /// Marks `target` running with `resume_cursor` (a new run: items 0).
  void begin(const import_target& target, const page_cursor& cursor);

  /// Merges one page of contacts by (user, key): new keys are inserted,
  /// known ones updated (never the user's own fields: last contact,
  /// frequency, archive, circle); their groups are created and joined
  /// (memberships are only added). `deleted_keys` are removed. The cursor is
  /// stored in the same transaction. Google keys are resource names; all
  /// others are vCard UIDs or derived keys (see formats/contact_import.hpp).
  ///
  /// When the database refuses the page for one item's data (a value it
  /// cannot store, a constraint, an index row over its size) and
  /// `isolate_failing_items` is set, the page is merged again item by item,
  /// each under a savepoint: refused items are listed in `failed`, the
  /// others and the cursor commit. Otherwise (and for any other error) the
  /// page rolls back whole and a storage_error says why.
  page_outcome merge_contacts(const import_target& target,
                              const std::vector<imported_contact>& contacts,
                              const std::vector<std::string>& deleted_keys,
                              const page_cursor& cursor,
                              bool isolate_failing_items = true);

  /// Merges one page of events by (user, calendar, external id): cancelled
  /// items remove their event (a cancelled series all its instances), the
  /// rest are upserted; the last item of a key in the page wins. A past
  /// event (ended by `now_unix_s`) moves the last contact date of every
  /// contact whose e-mail is among its attendees forward to its start,
  /// never backward. The cursor is stored in the same transaction.
  page_outcome merge_events(const import_target& target,
                            const std::vector<calendar_event_item>& events,
                            const page_cursor& cursor,
                            std::int64_t now_unix_s,
                            bool isolate_failing_items = true);

  /// After a complete full sync that began at `started_unix_us`: removes the
  /// target's rows not seen since (contacts by Google resource name, or the
  /// calendar's events of this source that overlap [window_from, window_to)
  /// when a window is given: a listing of a window says nothing of events
  /// outside it). Marks are microseconds.
  /// @returns the rows removed.
  std::int64_t sweep_unseen(const import_target& target,
                            std::int64_t started_unix_us,
                            std::int64_t window_from_unix_s = 0,
                            std::int64_t window_to_unix_s = 0);

  /// Ends a run: "succeeded" clears the resume cursor and stores
  /// `sync_token` (if given); "failed" keeps the cursor and stores `error`.
  void finish(const import_target& target, bool succeeded,
              const std::optional<std::string>& sync_token,
              const std::string& error, bool full_sync);

  /// Refreshes the planner's statistics of the tables an import of
  /// `target` inserts into. After a bulk import they describe a far smaller
  /// table (autovacuum catches up only later), and a lookup by e-mail or
  /// key would then be planned as a scan of all the user's rows.
  void refresh_statistics(const import_target& target);

  /// The database's clock in Unix microseconds, for `sweep_unseen`.
  std::int64_t now_unix_us();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace catchup::storage
