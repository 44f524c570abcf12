// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The engine facade: everything a host program needs to run CatchUp
/// Engine as its worker engine, in plain C++ types.
///
/// Errors are values: every fallible call returns `result<T>`; no
/// exception leaves this API, and no call aborts the process.
///
/// Thread-safety: all member functions of an open `engine` may be called
/// from any number of threads at once; calls for different users run in
/// parallel, and each call's result is its own. Moving or destroying an
/// engine is not thread-safe: do it when no other thread uses it.
///
/// Blocking and asynchronous forms: each long operation has a blocking
/// form, a `std::future` form (`..._async`) and a callback form. The
/// asynchronous forms run on the engine's own call threads
/// (`engine_config::async_threads`), at most that many at once; up to
/// `async_queue_max` more wait, and beyond that a call fails at once with
/// error_code::busy. Callbacks run on those call threads too, so a
/// callback may itself call the engine (blocking forms included). A call
/// refused at once (busy, closed) completes before it returns, on the
/// calling thread: a callback must not wait for a lock its caller holds.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <istream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catchup/error.hpp"
#include "catchup/export.hpp"
#include "catchup/types.hpp"
#include "catchup/version.hpp"

namespace catchup {

/// How to open an engine. Everything but the database and the call
/// threads is a setting, named as in the `catchup` binary's config file
/// (`catchup config keys` lists them with defaults and ranges).
struct engine_config {
  /// A PostgreSQL URL ("postgresql://user@host/db"). Empty: the engine
  /// creates and owns a private PostgreSQL cluster in `data_dir` (initdb on
  /// first use, unix socket only), started on open and stopped on close.
  std::string database_url;
  /// Directory of the private cluster; empty: the setting
  /// database.data_dir (".catchup/pg"). Ignored with a database_url.
  std::string data_dir;
  /// A config file read before `settings` (same format as the binary's
  /// --config); empty: none.
  std::string config_file;
  /// Settings as (key, value), applied last, e.g.
  /// {"generation.batch_rows_max", "50"}. Validated like the config file:
  /// an unknown key or a bad value fails `open` with invalid_config.
  std::vector<std::pair<std::string, std::string>> settings;
  /// Also read CATCHUP_* environment variables (as the binary does).
  /// Off by default: a library should not change behaviour with its
  /// host's environment.
  bool read_environment = false;
  /// Point spdlog's default logger at stderr with the settings log.level
  /// and log.format. Turn it off when the host configures spdlog itself
  /// (the engine logs through spdlog's default logger).
  bool configure_logging = true;
  /// Threads that run asynchronous calls and callbacks (1..256).
  std::size_t async_threads = 4;
  /// Asynchronous calls that may wait for a call thread (1..1,000,000).
  std::size_t async_queue_max = 1024;
  /// Where the engine reads "now", in Unix milliseconds; empty: the system
  /// clock. Every call not given a "now" (generate, responses, imports,
  /// enqueue, the worker's jobs and schedules) reads it, and only it; the
  /// setting clock.offset_s moves it. Called on engine threads, so it must
  /// be thread-safe. Tests and simulations set it to own their time.
  std::function<std::int64_t()> clock_unix_ms;
  /// Called with every memory reading the engine takes (each
  /// memory.sample_interval_ms, and whenever it samples on demand, as
  /// `memory()` does), on an engine thread; empty: none. For timelines:
  /// keep it short, it holds up the sampling. `on_pressure_change` hears
  /// only the changes of level. Never called with memory.monitoring_enabled
  /// false.
  std::function<void(const memory_snapshot&)> on_memory_sample;
};

/// A handle to a pressure subscription; pass it to `unsubscribe`.
using subscription_id = std::uint64_t;

namespace detail {
/// The library's own way into an engine (catchup/admin.hpp and
/// catchup/server.hpp are built on it); nothing a host uses.
struct engine_access;
} // namespace detail

/// One open engine: a database (private or shared), the actor system that
/// streams contacts in bounded batches, the memory supervisor, the caches
/// and, when started, the job dispatcher. Open several to serve several
/// databases; one is enough for any number of users and threads.
///
/// Example:
/// @code
/// auto eng = catchup::engine::open({});          // private database
/// if (!eng) { std::cerr << eng.error().message; return 1; }
/// auto user = eng->put_user({"", "ada@example.org", "Ada", "Europe/London"});
/// auto summary = eng->generate(*user);
/// @endcode
class CATCHUP_API engine {
public:
  /// Opens the database (starting the private cluster if needed, applying
  /// schema migrations) and starts the engine's actors.
  /// @returns the engine, or invalid_config (a bad setting, file or
  /// option), database_unavailable (no server, or a private cluster that
  /// cannot be created or started, with the reason), schema_mismatch.
  static result<engine> open(const engine_config& config) noexcept;

  /// An engine that is closed; every call on it fails with `closed`.
  engine() noexcept;
  engine(engine&&) noexcept;
  engine& operator=(engine&&) noexcept;
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  /// Closes the engine (see `close`).
  ~engine();

  /// Stops the dispatcher (handing its jobs back), waits for the calls in
  /// flight, completes asynchronous calls still waiting with `closed`
  /// (their callbacks run), stops the actors and, for a private cluster,
  /// the database server. Later calls fail with `closed`. Idempotent and
  /// safe to call from several threads (all return once it is closed).
  /// From one of the engine's own callbacks it only refuses new calls; the
  /// rest happens when the engine is destroyed.
  void close() noexcept;

  /// True until `close`.
  bool is_open() const noexcept;

  // -- users ------------------------------------------------------------------

  /// Creates or updates a user (see user_profile) and returns the id.
  /// Idempotent: the same profile twice is one user.
  /// @returns invalid_argument (no id and no email, an unknown zone, a bad
  /// window), not_found (an id that does not exist, without an email),
  /// conflict (the email belongs to another user's id).
  result<std::string> put_user(const user_profile& profile);

  /// Every user, oldest first, with their counts of contacts and pending
  /// suggestions (read from the database on each call, not cached).
  result<std::vector<user_info>> users();

  /// One user with their counts.
  /// @returns the user; invalid_argument (an id that is not a UUID),
  /// not_found ("user ID not found").
  result<user_info> user(const std::string& user_id);

  /// Deletes a user and everything the engine holds for them (contacts,
  /// calendars, suggestions, generations, sync state, queued jobs), and
  /// drops their cached entries. Not undoable.
  /// @returns invalid_argument (an id that is not a UUID), not_found.
  result<void> delete_user(const std::string& user_id);

  // Every call about one user (generate, suggestions, respond, contact,
  // for_each_contact, user, delete_user) refuses an id that is not a UUID
  // with invalid_argument "user id 'ID' is not a UUID" before any work,
  // and an unknown user with not_found "user ID not found".

  // -- generation -------------------------------------------------------------

  /// Generates suggestions for one user: streams the user's contacts in
  /// batches, ranks the most overdue ones and places them in free slots
  /// of the next days, replacing the user's pending suggestions.
  /// `now_unix_s` 0 means the engine's clock (engine_config::clock_unix_ms).
  /// Bounded by generation.user_timeout.
  /// @returns the summary with the new suggestions; not_found (no such
  /// user), invalid_argument (a malformed id), memory_critical, timeout.
  result<generation_summary> generate(const std::string& user_id,
                                      std::int64_t now_unix_s = 0);
  std::future<result<generation_summary>>
  generate_async(const std::string& user_id, std::int64_t now_unix_s = 0);
  void generate_async(const std::string& user_id, std::int64_t now_unix_s,
                      std::function<void(result<generation_summary>)> done);

  /// Called with each user's summary (without its items) as the user
  /// finishes, and the users done and in the run; one call at a time, on
  /// the thread that called generate_all.
  using user_done_fn = std::function<void(const generation_summary&,
                                          std::size_t, std::size_t)>;

  /// Generates for every active user, generation.concurrent_users_max at a
  /// time (fewer under memory pressure; at critical the run waits). Memory
  /// does not grow with the number of users: each summary goes to
  /// `on_user` (may be empty) and is not kept.
  result<run_totals> generate_all(std::int64_t now_unix_s = 0,
                                  user_done_fn on_user = {});
  std::future<result<run_totals>> generate_all_async(std::int64_t now_unix_s = 0,
                                                     user_done_fn on_user = {});

  /// As `generate_all`, for the listed users only (started in that order,
  /// whether active or not): a team, a tenant, a data set.
  /// @returns the run's totals; a user that does not exist counts as
  /// failed (its summary's warnings say why).
  result<run_totals> generate_users(const std::vector<std::string>& user_ids,
                                    std::int64_t now_unix_s = 0,
                                    user_done_fn on_user = {});
  std::future<result<run_totals>>
  generate_users_async(std::vector<std::string> user_ids,
                       std::int64_t now_unix_s = 0, user_done_fn on_user = {});

  // -- suggestions ------------------------------------------------------------

  /// A user's pending suggestions, earliest slot first (cached; a
  /// generation or response invalidates the cache).
  /// @returns the suggestions (none is an empty list); invalid_argument
  /// (a malformed id), not_found (no such user).
  result<std::vector<suggestion>> suggestions(const std::string& user_id);
  std::future<result<std::vector<suggestion>>>
  suggestions_async(const std::string& user_id);

  /// Accepts, dismisses or snoozes a pending suggestion.
  /// @returns the suggestion as it is now; not_found (no such user, or no
  /// such suggestion of that user), conflict (not pending any more, or accepting it would
  /// overlap another accepted slot), invalid_argument (a snooze time not
  /// after now or too far ahead).
  result<suggestion> respond(const suggestion_response& response);

  /// Shorthands for `respond`.
  result<suggestion> accept(const std::string& user_id,
                            const std::string& suggestion_id);
  result<suggestion> dismiss(const std::string& user_id,
                             const std::string& suggestion_id,
                             const std::string& reason = {});
  result<suggestion> snooze(const std::string& user_id,
                            const std::string& suggestion_id,
                            std::int64_t until_unix_s);

  // -- contacts ---------------------------------------------------------------

  /// One contact of a user (cached; an import or a response invalidates
  /// the cache), with its birthday and anniversary (read each time).
  /// @returns the contact; not_found (no such user, or no such contact of
  /// that user), invalid_argument (a malformed id).
  result<contact_info> contact(const std::string& user_id,
                               const std::string& contact_id);

  /// Calls `visit` with each of a user's contacts that is not archived,
  /// oldest last contact first (never contacted first), on the calling
  /// thread; `visit` returns false to stop. The contacts are read in
  /// batches from one snapshot of the database, so memory stays bounded
  /// however many there are; the cache is bypassed.
  /// @returns the number of contacts visited; invalid_argument (a
  /// malformed id), not_found (no such user), internal (`visit` threw).
  result<std::int64_t>
  for_each_contact(const std::string& user_id,
                   const std::function<bool(const contact_info&)>& visit);

  // -- steering ---------------------------------------------------------------
  // What a person steers, with one code path behind the CLI and the HTTP
  // API. A contact or group is named by its id or, for contacts, an exact
  // name or e-mail that only one contact of the user has (an ambiguous
  // name is invalid_input listing the candidates). Another user's contact
  // or group is not_found. Set user settings with put_user.

  /// The settings in effect for a user (their own, else the engine's).
  result<user_settings> settings(const std::string& user_id);

  /// The id of the contact `contact` names (id, exact name or e-mail).
  result<std::string> find_contact(const std::string& user_id,
                                   const std::string& contact);

  /// Changes a contact's cadence, importance, archive or pause and returns
  /// the contact as it now is. Archiving or pausing withdraws its pending
  /// suggestion. Errors: invalid_input (the field and value: a cadence
  /// of 0 or more than 3650 days, a pause not in the future, ...),
  /// not_found.
  result<contact_info> update_contact(const std::string& user_id,
                                      const std::string& contact,
                                      const contact_update& update);

  /// The user's groups by name.
  result<std::vector<group_info>> groups(const std::string& user_id);

  /// Creates a group; `cadence_days` 1..3650 is the cadence its members
  /// without their own inherit (the shortest among a contact's groups
  /// wins), 0 none. Errors: invalid_input, not_found, conflict (name).
  result<group_info> create_group(const std::string& user_id,
                                  const std::string& name,
                                  std::int32_t cadence_days = 0);

  /// Renames a group (unless `new_name` is empty) and sets its cadence
  /// (0 clears it, -1 keeps it).
  result<group_info> update_group(const std::string& user_id,
                                  const std::string& group,
                                  const std::string& new_name,
                                  std::int32_t cadence_days = -1);

  /// Deletes a group; its members stay.
  result<void> delete_group(const std::string& user_id,
                            const std::string& group);

  /// Adds contacts to a group, all or none (at most 10,000 per call);
  /// returns how many were not members yet.
  result<std::int64_t> add_to_group(const std::string& user_id,
                                    const std::string& group,
                                    const std::vector<std::string>& contacts);

  /// Removes contacts from a group, all or none; returns how many were
  /// members.
  result<std::int64_t>
  remove_from_group(const std::string& user_id, const std::string& group,
                    const std::vector<std::string>& contacts);

  /// The birthdays and anniversaries of a user's contacts that fall within
  /// `horizon_days` days (1..366) in the user's time zone: on the local day
  /// of `now_unix_s` (0: the engine's clock) or one of the next
  /// `horizon_days - 1` days. Archived contacts are left out. A Feb 29
  /// date falls on Feb 28 in a year without it.
  /// @returns the dates, soonest first, then by contact name, then by
  /// contact id; invalid_argument (a malformed user id, horizon_days out of
  /// range; the message names the field), not_found (no such user).
  result<std::vector<upcoming_date>>
  upcoming_dates(const std::string& user_id, int horizon_days = 14,
                 std::int64_t now_unix_s = 0);

  // -- imports ----------------------------------------------------------------

  /// Called after every committed page with the totals so far, on an
  /// engine thread; keep it short.
  using import_progress_fn = std::function<void(const import_summary&)>;

  /// Imports a contacts file (vCard 2.1/3.0/4.0 or CSV) or a calendar
  /// (iCalendar) for a user, page by page, one transaction per page; bad
  /// items are skipped and reported with file:line (or, when strict, the
  /// whole file is checked before the first write and nothing is written
  /// if any item is bad). A file import that stopped resumes after its last
  /// committed page when run again on the unchanged file.
  /// @returns the summary (with its warnings); invalid_argument (unknown
  /// format, missing file), not_found (no such user), invalid_input (a
  /// strict import found a bad item: nothing was written),
  /// memory_critical.
  result<import_summary> import_file(const std::string& path,
                                     const import_params& options,
                                     import_progress_fn progress = {});
  std::future<result<import_summary>>
  import_file_async(const std::string& path, const import_params& options,
                    import_progress_fn progress = {});

  /// As `import_file`, from a stream the engine reads page by page (it
  /// never holds more than a page). `name` stands for the stream in
  /// warnings ("name:line"); `options.format` must be given. A stream
  /// cannot be resumed: a rerun reads it from the start (rows are merged
  /// by key, so nothing is duplicated). The stream must stay valid until
  /// the call returns.
  result<import_summary> import_stream(std::istream& in, const std::string& name,
                                       const import_params& options,
                                       import_progress_fn progress = {});

  /// Called after every committed page with the totals so far and that
  /// page's bad items, all of them (the totals keep only the first 100),
  /// on an engine thread; keep it short.
  using import_page_fn = std::function<void(
    const import_summary&, const std::vector<import_warning>&)>;

  /// As `import_file`, but a run that started and then stopped early is an
  /// outcome, not an error: it says what the run did up to there and why
  /// it stopped (see import_outcome), and `progress` hears every page's
  /// bad items. `options.format` contacts_by_extension reads a file as
  /// contacts whatever its name says.
  /// @returns the outcome; the errors of `import_file` for an import that
  /// could not start (invalid_argument, invalid_input for a file that
  /// cannot be opened or read as its format, not_found, memory_critical).
  result<import_outcome> import_file_outcome(const std::string& path,
                                             const import_params& options,
                                             import_page_fn progress = {});

  /// Syncs a user's Google contacts or one Google calendar like an import
  /// (one page per transaction, bad items skipped unless strict, resumable
  /// after a stop); rows a full sync no longer sees are removed at its end
  /// (import_summary::swept), and the new sync token is stored.
  /// @returns the outcome, as `import_file_outcome`: a sync the API or the
  /// database stopped is an outcome whose `stopped` says why; not_found
  /// (no such user), memory_critical.
  result<import_outcome> sync_google(const google_sync_params& params,
                                     import_page_fn progress = {});

  // -- job dispatcher ---------------------------------------------------------

  /// Starts taking jobs from the durable queue shared by every engine on
  /// the same database (settings node.* and schedule.*): generations and
  /// imports, with leases so a job of a dead process is taken over.
  /// @returns conflict if it already runs.
  result<void> start_dispatcher();

  /// Stops claiming; jobs in flight get `grace` to finish, the rest go
  /// back to the queue for any engine. No-op when not running.
  result<void> stop_dispatcher(std::chrono::milliseconds grace
                               = std::chrono::seconds(30));

  /// Queues a generation for a user, run by whichever engine's dispatcher
  /// claims it first, at `run_at_unix_ms` (0: now). A pending generation of
  /// the same user makes this a no-op. @returns the job's id.
  result<std::int64_t> enqueue_generation(const std::string& user_id,
                                          std::int64_t run_at_unix_ms = 0);

  /// What this engine's dispatcher did since the engine opened (zeros if
  /// it never ran). Reads counters the dispatcher keeps, without the
  /// database or a sample: cheap enough to poll every millisecond.
  result<dispatcher_figures> dispatcher() const;

  // -- memory and metrics -----------------------------------------------------

  /// Samples memory now and returns the reading (level with hysteresis).
  result<memory_snapshot> memory();

  /// The metrics now (Prometheus text and the main figures).
  result<metrics_snapshot> metrics();

  /// Calls `on_change` with the current memory reading, then with every
  /// change of the memory level, on a call thread, in order (a burst of
  /// changes may arrive as its latest one).
  /// @returns the id for `unsubscribe`, or closed.
  result<subscription_id>
  on_pressure_change(std::function<void(const memory_snapshot&)> on_change);

  /// Ends a subscription; no call of it starts after this returns.
  void unsubscribe(subscription_id id) noexcept;

  // -- about this engine ------------------------------------------------------

  /// True when the engine runs on its private PostgreSQL cluster.
  bool embedded_database() const noexcept;

  /// The database URL in use (for a private cluster, its socket URL).
  std::string database_url() const;

  /// The private cluster's data directory, absolute; empty with an
  /// external database.
  std::string data_dir() const;

  /// "Now" on the engine's clock (engine_config::clock_unix_ms moved by
  /// clock.offset_s), in Unix seconds: the instant a call given no "now"
  /// uses. 0 for a closed or moved-from engine.
  std::int64_t now_unix_s() const noexcept;

  struct impl;

private:
  friend struct detail::engine_access;
  explicit engine(std::unique_ptr<impl> d) noexcept;
  std::unique_ptr<impl> impl_;
};

} // namespace catchup
