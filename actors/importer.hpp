// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"
#include "actors/memory_supervisor.hpp"
#include "adapters/import_sources.hpp"
#include "core/field_check.hpp"
#include "core/pressure.hpp"
#include "storage/import_store.hpp"

namespace catchup {

/// How one sync runs.
struct import_options {
  /// Items per page (one transaction) at normal pressure; under pressure
  /// a page has the `policy` table's import share of it (elevated halves
  /// it, high quarters it, critical pauses the run).
  std::size_t page_items_max = 500;
  /// The engine's pressure policy (see core/pressure.hpp).
  pressure_policy_table policy;
  /// Any bad item aborts its page's transaction and ends the run (pages
  /// before it stay committed); otherwise bad items are skipped.
  bool strict = false;
  /// "Now" for the calendar's last-contact rule (events ended by now).
  std::int64_t now_unix_s = 0;
  /// How long a run waits at critical pressure before it fails.
  std::chrono::milliseconds breaker_wait_max{std::chrono::minutes{10}};
  /// Problems kept in the report; the rest are only counted.
  std::size_t problems_kept_max = 100;
  /// Limit of one database call of the run.
  std::int64_t statement_timeout_ms = 60000;
  /// When set (by a shutting-down node), the run stops before its next
  /// page with an error saying where a rerun resumes; may be null.
  std::shared_ptr<std::atomic<bool>> cancelled;
  /// Calendar syncs: the window the source lists; a full sync's sweep
  /// removes only unseen events inside it (0, 0: no bound).
  std::int64_t window_from_unix_s = 0;
  std::int64_t window_to_unix_s = 0;
  /// What every item's fields must meet before SQL (see field_check.hpp).
  field_limits fields;
};

/// What a sync did, so far (progress) or in all (the end).
struct import_report {
  /// Items taken from the source, bad ones included, in this run.
  std::uint64_t items = 0;
  /// Items skipped on an earlier run's resume cursor.
  std::uint64_t resumed_items = 0;
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t deleted = 0;
  /// Bad items (skipped, or the one that stopped a strict run).
  std::uint64_t skipped = 0;
  /// Calendars: events read but outside the window [window_from_unix_s,
  /// window_to_unix_s), which are not imported (both 0 without a window).
  std::uint64_t outside_window = 0;
  std::int64_t window_from_unix_s = 0;
  std::int64_t window_to_unix_s = 0;
  std::int64_t last_contact_moved = 0;
  /// Rows a full sync removed because the source no longer has them.
  std::int64_t swept = 0;
  std::uint64_t pages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t bytes_total = 0;
  /// Smallest page size used (pressure shrinks pages).
  std::size_t page_items_min = 0;
  double wall_ms = 0;
  /// The first problems_kept_max problems.
  std::vector<import_problem> problems;
  /// Empty on success; otherwise what failed (the run stopped there, the
  /// pages before it are committed and a rerun resumes after them).
  std::string error;
  /// The error was the database's (out of reach, a conflict), not the
  /// input's: running the import again later may succeed.
  bool error_transient = false;
  bool ok() const {
    return error.empty();
  }
};

/// Called after every committed page with the totals so far and the
/// problems of that page, on the sync actor's thread.
using import_progress_fn
  = std::function<void(const import_report&,
                       const std::vector<import_problem>&)>;

/// Runs one sync of `source` into `target` in a detached actor (it blocks
/// on the file or API and the database, so it must not share a scheduler
/// thread): page by page, each merged with its cursor in one transaction,
/// resuming after the pages an earlier interrupted run committed. After
/// every page it drops the user's cached contacts and calendar. It
/// subscribes to `supervisor` (if valid) and sizes pages by its level.
/// `done` is called once with the final report, after which the actor
/// exits.
/// Reads `source` whole, as an import with `options` would, without
/// writing: the first bad item (a reader's problem or a field that cannot
/// be stored), or none. `items` counts the items read. Throws as
/// page_source::next_page does. A strict file import runs it first, so a
/// bad item anywhere means nothing is written.
std::optional<import_problem> first_problem(page_source& source,
                                            const import_options& options,
                                            std::uint64_t& items);

void spawn_import(caf::actor_system& sys, std::string database_url,
                  storage::import_target target,
                  std::unique_ptr<page_source> source, import_options options,
                  cache_actor cache, memory_supervisor_actor supervisor,
                  import_progress_fn progress,
                  std::function<void(import_report)> done);

} // namespace catchup
