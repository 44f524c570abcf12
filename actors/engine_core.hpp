// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/dispatcher.hpp"
#include "actors/engine_error.hpp"
#include "actors/importer.hpp"
#include "actors/interfaces.hpp"
#include "adapters/google_client.hpp"
#include "catchup/types.hpp"
#include "config/settings.hpp"
#include "core/clock.hpp"
#include "core/memory.hpp"
#include "core/metrics.hpp"
#include "messages/cache_messages.hpp"
#include "messages/contact.hpp"
#include "messages/error_codes.hpp"
#include "messages/generation_messages.hpp"
#include "messages/memory_messages.hpp"
#include "storage/seed.hpp"
#include "storage/steering_store.hpp"
#include "storage/user_store.hpp"
#include "storage/session.hpp"

namespace catchup {

/// One file import: contacts (vCard or CSV) or a calendar (iCalendar).
struct import_request {
  enum class kind { contacts, calendar };
  std::string user_id;
  kind what = kind::contacts;
  std::string path;
  /// Contacts: the format; empty means by the file's extension.
  std::optional<contact_format> format;
  /// See import_options::strict.
  bool strict = false;
  /// Calendars: the calendar the events are filed under; empty means the
  /// file's name without directory.
  std::string calendar_id;
  /// "Now": the calendar window is around it, and events ended by it move
  /// last contact dates.
  std::int64_t now_unix_s = 0;
};

/// One sync with a Google account: its contacts (People API) or one of its
/// calendars (Calendar API). The first sync is full; later ones fetch the
/// changes since the stored sync token.
struct google_sync_request {
  enum class kind { contacts, calendar };
  std::string user_id;
  kind what = kind::contacts;
  /// Calendars: the Google calendar id.
  std::string calendar_id = "primary";
  google_credentials credentials;
  bool strict = false;
  /// "Now": the calendar window is around it, and events ended by it move
  /// last contact dates.
  std::int64_t now_unix_s = 0;
};

/// What a host may plug into an engine besides its settings.
struct engine_options {
  /// Where memory figures come from; null means this process (a fake in
  /// tests).
  std::shared_ptr<memory_probe> probe;
  /// Called with every memory sample, on an engine thread (may be empty);
  /// for timelines.
  std::function<void(const memory_status&)> on_memory_sample;
  /// Where every "now" of the engine comes from (the system clock unless
  /// set); `clock.offset_s` of the settings moves it.
  wall_clock clock;
};

/// The engine as one object: opens the database (the private cluster by
/// default), runs the actor system with the streaming repository and the
/// generation coordinator, and offers the engine's operations as blocking
/// calls. It is the private implementation of the public API (api/src):
/// hosts and the `catchup` binary reach it through `catchup::engine`,
/// catchup/admin.hpp and catchup/server.hpp; besides api/src only the
/// tests use it directly.
class engine_core {
public:
  /// Opens the database named by `s.database` and starts the actors.
  /// @throws storage::storage_error if the database cannot be opened.
  explicit engine_core(const config::settings& s, engine_options options = {});

  /// As above, with the actors spawned into a host's actor system instead
  /// of one of the engine's own. The host keeps its system running while
  /// this object lives; destroying it tells the actors to exit and does
  /// not wait for them.
  engine_core(caf::actor_system& host, const config::settings& s,
              engine_options options = {});

  ~engine_core();
  engine_core(const engine_core&) = delete;
  engine_core& operator=(const engine_core&) = delete;

  /// Seeds deterministic demo data (see storage/seed.hpp).
  storage::seed_report seed(const storage::seed_options& options);

  /// The users of a complete earlier `seed(options)`, or empty (see
  /// storage::seeded_users).
  std::vector<std::string> seeded_users(const storage::seed_options& options);

  /// Generates suggestions for one user at `now_unix_s`; on a cluster
  /// member (a worker with cluster.enabled), on the least-pressured
  /// reachable node.
  /// @throws engine_error (not_found, invalid_input, memory_critical with
  /// the memory figures while the circuit breaker is open, db_*).
  generation_result generate(const std::string& user_id,
                             std::int64_t now_unix_s);

  /// Receives each user's result of a multi-user run as the user finishes:
  /// (result without items, users done, users in the run). Called from an
  /// engine thread, one call at a time, never after the run returned.
  using result_callback = std::function<void(const generation_result&,
                                             std::size_t, std::size_t)>;

  /// Generates for every active user, `generation.concurrent_users_max` at
  /// a time (fewer under memory pressure). Each user's result goes to
  /// `on_result` (may be empty) and is not kept: the suggestions are in
  /// the database (see `suggestions`), so memory does not grow with the
  /// number of users. Users held by the open circuit breaker wait and are
  /// retried with backoff; one held past `breaker_wait_max` fails with the
  /// breaker's figures in its warning.
  /// @returns the run's totals.
  run_summary generate_all(std::int64_t now_unix_s,
                           result_callback on_result = {});

  /// As `generate_all`, for the listed users (started in that order).
  run_summary generate_users(const std::vector<std::string>& user_ids,
                             std::int64_t now_unix_s,
                             result_callback on_result = {});

  /// Streams a user's non-archived contacts in `order` through `visit`, in
  /// batches of at most `batch_rows` rows, pulled one at a time (memory
  /// stays bounded by one batch). The rows come from one snapshot (a
  /// server-side cursor holding one connection until the end). `visit`
  /// returns false to stop early.
  /// @returns the number of rows visited.
  /// @throws engine_error: invalid_input (not a UUID), not_found (no such
  /// user), db_* on database failure.
  std::int64_t
  for_each_contact(const std::string& user_id, contact_order order,
                   bool descending, bool full_projection,
                   std::size_t batch_rows,
                   const std::function<bool(const contact_record&)>& visit);

  /// A user's pending suggestions, earliest slot first (through the
  /// suggestion cache; a generation's save invalidates it).
  /// @throws engine_error: invalid_input (not a UUID), not_found (no such
  /// user), db_*.
  std::vector<suggestion_record> suggestions(const std::string& user_id);

  /// Records a user's answer to one of their suggestions (accept, dismiss
  /// or snooze; the rules are storage::session::respond_to_suggestion's)
  /// and drops the user's cached suggestions and contacts, so reads after
  /// it see the answer and a moved last contact date.
  /// @throws engine_error: invalid_input, not_found, conflict, db_*.
  storage::respond_result
  respond(const storage::suggestion_response& response);

  /// The birthday and anniversary of one contact (from the database, not
  /// the cache).
  /// @throws engine_error(invalid_input) for a malformed id.
  std::vector<contact_date_info> contact_dates(const std::string& user_id,
                                               const std::string& contact_id);

  /// A user's contacts' dates within `horizon_days` local days of
  /// `now_unix_s` (0: the engine's clock); see storage::upcoming_dates.
  /// @throws engine_error: invalid_input (naming the field), not_found.
  std::vector<upcoming_date> upcoming_dates(const std::string& user_id,
                                            int horizon_days,
                                            std::int64_t now_unix_s);

  /// One contact of a user by id (through the contact cache).
  /// @throws engine_error: invalid_input (an id not a UUID), not_found (no
  /// such user, or no such contact of the user).
  contact_record contact(const std::string& user_id,
                         const std::string& contact_id);

  /// Imports one file page by page in a sync actor (see spawn_import):
  /// resumable after a kill, bad items reported with file:line and
  /// skipped (or, with `strict`, stopping the run). Blocks until the run
  /// ends; `progress` is called after every committed page.
  /// @returns the report; its `error` says why a run stopped early.
  /// @throws engine_error(invalid_input) for a file whose format is
  /// unknown, memory_critical while the circuit breaker is open.
  import_report import_file(const import_request& request,
                            import_progress_fn progress = {});

  /// Imports from a stream (an upload, a pipe) like `import_file`, with
  /// `request.path` as the stream's name: problems are located as
  /// "name:line", and the run's sync state is kept under that name (a
  /// resource "stream:<name>", apart from any file's). Contacts need
  /// `request.format`; a calendar's id defaults to the name's last path
  /// element. A stream cannot resume: every run reads it all, whatever an
  /// earlier run of the same name left behind.
  /// @throws engine_error(invalid_input) without a format (contacts), a
  /// name or a readable stream; memory_critical while the circuit breaker
  /// is open.
  import_report import_stream(const import_request& request,
                              std::unique_ptr<std::istream> in,
                              import_progress_fn progress = {});

  /// Syncs a user's Google contacts or calendar like `import_file` (one
  /// page per transaction, resumable); rows a full sync no longer sees
  /// are removed at its end, and the new sync token is stored.
  import_report sync_google(const google_sync_request& request,
                            import_progress_fn progress = {});

  /// Puts a job on the durable queue (see storage/job_queue.hpp): kind
  /// "generate", "sync_contacts" or "sync_calendar"; a pending job of the
  /// same kind and user makes this a no-op that returns that job.
  storage::enqueue_result enqueue(const std::string& kind,
                                  const std::string& user_id,
                                  const std::string& payload_json = "{}",
                                  std::int64_t run_at_unix_ms = 0,
                                  std::int32_t max_attempts = 5);

  /// Runs one queued job here and now (what a worker does with a claimed
  /// job): "" on success, else why it failed. Payloads: generate {} or
  /// {"now": unix s}; sync_contacts {"path", "format"?} or {"google":
  /// {client_id, client_secret, refresh_token, access_token}};
  /// sync_calendar {"path", "calendar_id"?} or {"google": {...},
  /// "calendar_id"?}.
  job_result execute_job(const storage::job_record& job);

  /// Checks a job before it is enqueued, so a mistake is said to whoever
  /// enqueues it rather than found by a node later: a known kind, a JSON
  /// object payload, and for a sync with a "path" a regular file this
  /// host can read (nodes are expected to see the same files) and, for
  /// contacts, a format known by the name or by "format".
  /// @throws engine_error(invalid_input) saying what is wrong.
  static void check_job(const std::string& kind,
                        const std::string& payload_json);

  /// Starts taking jobs from the queue (one worker per engine). With
  /// cluster.enabled the node also joins the cluster (see
  /// actors/cluster.hpp): peers rescue its jobs if it dies, and `generate`
  /// runs on the least-pressured reachable node.
  /// @throws engine_error(invalid_config) if the cluster endpoint cannot
  /// be opened (the worker is stopped again).
  void start_worker(worker_options options);

  /// host:port of this node's cluster endpoint; "" when not in a cluster.
  std::string cluster_address() const;

  /// Stops the worker: no new claims, jobs in flight get `grace` to
  /// finish, the rest go back to the queue for any node. No-op without a
  /// worker. @returns false if the worker did not answer.
  bool stop_worker(std::chrono::milliseconds grace);

  /// The worker's figures (zero without a worker).
  const worker_figures& worker() const;

  /// Drops everything cached about `user_id` ("" = about every user). The
  /// engine's own writes do this themselves; a host that writes to the
  /// database directly (calendar events, contacts) calls it afterwards, so
  /// later reads see its write.
  void invalidate(const std::string& user_id);

  /// The caches' figures (entries, bytes, limits, hits, misses, evictions).
  std::vector<cache_figures> cache_status();

  /// Lists user ids (active ones only if `active_only`).
  std::vector<std::string> users(bool active_only);

  /// Samples memory now (broadcasting a level change first) and returns
  /// the classified reading; without monitoring, the budget at normal.
  memory_status sample_memory();

  /// The engine's metrics: heap, rss, pressure, generations, breaker.
  const metrics_registry& metrics() const;

  /// The memory budget pressure levels refer to.
  std::int64_t memory_budget_bytes() const;

  /// The database connection URL in use.
  const std::string& database_url() const;

  /// The clock every "now" of this engine comes from (engine_options::clock
  /// moved by clock.offset_s). Calls given no "now" read it.
  const wall_clock& clock() const;

  /// True when the engine runs on its private PostgreSQL cluster.
  bool embedded_database() const;

  /// Data directory of the private cluster ("" for an external server).
  std::string data_dir() const;

  /// Creates or updates a user (see storage::put_user) and drops what is
  /// cached about them. @returns the id. @throws engine_error.
  std::string put_user(const storage::user_profile& profile);

  // -- steering (engine_core_steering.cpp): storage calls on the caller's
  // thread, each dropping what the caches hold for the user it changed.

  /// The user's settings as stored (0: not set, the engine's value).
  storage::stored_user_settings user_settings(const std::string& user_id);

  /// The id of the contact `ref` names (id, exact name or e-mail).
  std::string resolve_contact(const std::string& user_id,
                              const std::string& ref);

  /// Applies a contact's settings; returns its id.
  std::string update_contact(const std::string& user_id,
                             const std::string& contact_ref,
                             const contact_update& update);

  std::vector<group_info> groups(const std::string& user_id);
  group_info create_group(const std::string& user_id, const std::string& name,
                          std::int32_t cadence_days);
  group_info update_group(const std::string& user_id,
                          const std::string& group_ref,
                          const std::string& new_name,
                          std::int32_t cadence_days);
  void delete_group(const std::string& user_id, const std::string& group_ref);
  std::int64_t change_members(const std::string& user_id,
                              const std::string& group_ref,
                              const std::vector<std::string>& contact_refs,
                              bool remove);

  /// Every user with their counts, oldest first (storage::read_users);
  /// pending suggestions are counted at the engine's "now".
  /// @throws engine_error: db_*.
  std::vector<storage::user_info> read_users();

  /// One user with their counts.
  /// @throws engine_error: invalid_input (not a UUID), not_found, db_*.
  storage::user_info read_user(const std::string& user_id);

  /// Deletes a user and all their data (the schema cascades) and drops
  /// what is cached about them.
  /// @throws engine_error: invalid_input (not a UUID), not_found, db_*.
  void delete_user(const std::string& user_id);

  /// True while a worker runs (between start_worker and stop_worker).
  bool worker_running() const;

  /// The actor system the engine's actors run in.
  caf::actor_system& system() const;

  /// The worker's dispatcher; invalid without a worker.
  caf::actor dispatcher() const;

  /// The engine's actors, for actor-level hosts (api/'s node).
  coordinator_actor coordinator() const;
  cache_actor cache() const;
  /// Invalid without memory monitoring.
  memory_supervisor_actor supervisor() const;

  /// How long one user's generation may take (generation.user_timeout).
  std::chrono::milliseconds generation_timeout() const;

  /// The schema version of the database in use.
  std::int64_t schema_version() const;

  /// The last classified memory reading, without sampling.
  memory_status last_memory_status() const;

  struct impl;

private:
  void start(caf::actor_system* host, const config::settings& s,
             engine_options options);

  std::unique_ptr<impl> impl_;
};

/// The engine's version string ("0.1.0"), the project's version.
const char* engine_version();

} // namespace catchup
