// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Operator tasks around an engine, as the `catchup` binary offers them:
/// the configuration and where each value comes from, the private
/// PostgreSQL cluster, schema migrations, demo data, the durable job queue
/// and the cluster's nodes. Each task takes the `engine_config` an engine
/// would be opened with and reads the same settings; the tasks on the
/// database open it for the call only (a private cluster that is not
/// running is started and stopped again). Errors are values, as in
/// catchup/engine.hpp; every function is safe to call from any thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "catchup/engine.hpp"
#include "catchup/error.hpp"
#include "catchup/export.hpp"
#include "catchup/records.hpp"
#include "catchup/types.hpp"

namespace catchup::admin {

// -- configuration ---------------------------------------------------------------

/// One configuration key, as the config file, the environment and the
/// binary's flags know it.
struct setting_key {
  /// "section.key", e.g. "memory.budget_bytes".
  std::string key;
  /// The command-line flag, e.g. "--memory-budget-bytes".
  std::string flag;
  /// The built-in default, as text.
  std::string default_value;
  /// One line saying what the key does.
  std::string help;
};

/// Every key the engine knows, in display order.
CATCHUP_API std::vector<setting_key> setting_keys();

/// One key's effective value and where it came from.
struct setting {
  std::string key;
  std::string value;
  /// "built-in default", "file catchup.conf:4", "environment DATABASE_URL"
  /// or "flag --database-url".
  std::string source;
};

/// Reads the configuration of `config` as `engine::open` would (built-in
/// defaults < config file < environment, if read < settings) and checks
/// every value.
/// @returns every key's effective value, in `setting_keys()` order;
/// invalid_config naming the key, the value, its source and why.
CATCHUP_API result<std::vector<setting>>
effective_settings(const engine_config& config) noexcept;

/// Points spdlog's default logger at stderr with the settings log.level
/// and log.format of `config`, as `engine::open` does unless told not to.
/// Call it again to apply a changed configuration (the binary does on
/// SIGHUP). @returns the log level now set; invalid_config.
CATCHUP_API result<std::string>
configure_logging(const engine_config& config) noexcept;

// -- the private database --------------------------------------------------------

/// What is found in a private cluster's data directory.
enum class database_state : std::uint8_t {
  /// No cluster has been created there yet.
  absent,
  /// A cluster exists but no server runs on it.
  stopped,
  /// A server runs on it.
  running,
};

/// "absent", "stopped" or "running".
CATCHUP_API const char* to_string(database_state state) noexcept;

/// The private PostgreSQL cluster of a configuration.
struct database_info {
  database_state state = database_state::absent;
  /// The server's process id while it runs, else 0.
  std::int64_t pid = 0;
  /// The data directory, absolute.
  std::string data_dir;
  /// The URL engines connect with (a unix socket in the data directory).
  std::string url;
  /// Who stops the server: "manual" (started by `start_database`, stopped
  /// by `stop_database`) or the id of the process that started it and
  /// stops it when it exits; empty while none runs.
  std::string owner;
  /// The 0600 file with the superuser's password, which connections over
  /// TCP (database.tcp_port) need; empty until the first start.
  std::string password_file;
};

/// Inspects the private cluster of `config` without starting anything.
/// @returns its state; invalid_config when `config` names a database URL
/// (there is no private cluster then), database_unavailable when the
/// PostgreSQL server programs cannot be found.
CATCHUP_API result<database_info>
database_status(const engine_config& config) noexcept;

/// Starts the private cluster of `config` (creating it on first use) and
/// leaves it running after the call, shared by every later engine and
/// task on it until `stop_database`.
/// @returns true if this call started it, false if it was running;
/// invalid_config with a database URL, database_unavailable with the
/// reason (and the server log's tail) when it cannot start.
CATCHUP_API result<bool> start_database(const engine_config& config) noexcept;

/// Stops the private cluster of `config` (fast shutdown: open sessions
/// are cancelled), whoever started it.
/// @returns false if it was not running; invalid_config with a database
/// URL.
CATCHUP_API result<bool> stop_database(const engine_config& config) noexcept;

/// Stops the private cluster of `config` only if this process started it
/// (an engine opened here does when it finds the cluster stopped), so a
/// process that is interrupted and ends without closing its engine leaves
/// no server behind; a cluster started by `start_database` or by another
/// process stays. Safe from a signal-handling thread while the engine is
/// in use on another.
/// @returns true if it stopped the cluster; false with a database URL.
CATCHUP_API result<bool>
stop_database_if_started_here(const engine_config& config) noexcept;

// -- schema --------------------------------------------------------------------

/// What `migrate` did.
struct migration_summary {
  /// The schema version before and after the call.
  std::int64_t version_before = 0;
  std::int64_t version_after = 0;
  /// The versions this call applied, in order; empty when up to date.
  std::vector<std::int64_t> applied;
};

/// Applies the pending schema migrations in one transaction, under a lock
/// that makes nodes starting at once apply each exactly once (engines also
/// migrate on open unless database.migrate_on_start is false).
/// @returns what it did; schema_mismatch (the database is newer than this
/// library), database_error (a migration failed, or an applied one was
/// edited since), database_unavailable.
CATCHUP_API result<migration_summary>
migrate(const engine_config& config) noexcept;

// -- demo data ---------------------------------------------------------------------

/// Deterministic, realistic demo data: the same parameters make the same
/// rows.
struct seed_params {
  /// Users to create, 1..100,000.
  std::int64_t users = 20;
  /// Contacts per user, 0..10,000,000.
  std::int64_t contacts_per_user = 10000;
  /// Seeds the generator; data sets of different seeds live side by side.
  std::uint64_t seed = 1;
  /// The instant the data is made around (last contacts before it, busy
  /// events after it); 0: the engine's clock now.
  std::int64_t now_unix_s = 0;
  /// Busy calendar events per user in the 14 days after `now_unix_s`, at
  /// most (each user gets 0..this many), 0..10,000.
  std::int64_t busy_events_per_user_max = 30;
};

/// What `seed` wrote.
struct seed_summary {
  /// The users' ids, in creation order.
  std::vector<std::string> user_ids;
  std::int64_t contacts = 0;
  std::int64_t events = 0;
  double wall_ms = 0;
};

/// Writes demo users, contacts, groups and calendars through `eng`
/// (replacing the users of an earlier seed of the same seed value) and
/// drops what its caches hold.
/// @returns what it wrote; invalid_argument (a parameter out of range),
/// memory_critical, database_error, closed.
CATCHUP_API result<seed_summary> seed(engine& eng,
                                      const seed_params& params) noexcept;

/// The users of an earlier `seed` with the same parameters, in creation
/// order, if all of them are there with `contacts_per_user` contacts each;
/// otherwise none. Lets a host (or a benchmark) reuse a large demo data set
/// instead of seeding it again.
/// @returns the users' ids, or empty; database_error, closed.
CATCHUP_API result<std::vector<std::string>>
seeded_users(engine& eng, const seed_params& params) noexcept;

/// Deletes every job, whatever its state, of the demo users of seed value
/// `seed` (all that earlier `seed` calls made, whatever their number), so
/// that a demo or a benchmark on them starts from an empty queue. A node
/// still running one of those jobs loses it as if another node had taken
/// it over.
/// @returns how many jobs were deleted; database_error, closed.
CATCHUP_API result<std::int64_t> delete_demo_jobs(engine& eng,
                                                  std::uint64_t seed) noexcept;

// -- the job queue -----------------------------------------------------------------

/// A job to queue (see enqueue_job).
struct job_request {
  /// "generate", "sync_contacts" or "sync_calendar".
  std::string kind;
  std::string user_id;
  /// A JSON object: generate {} or {"now": unix s}; sync_contacts
  /// {"path": file, "format"?: "vcard"|"csv"} or {"google": {client_id,
  /// client_secret, refresh_token, access_token}}; sync_calendar
  /// {"path": file, "calendar_id"?} or {"google": {...}, "calendar_id"?}.
  std::string payload_json = "{}";
  /// When it is due, Unix milliseconds; 0: now.
  std::int64_t run_at_unix_ms = 0;
  /// Attempts before the job stays failed, 1..100.
  std::int32_t max_attempts = 5;
};

/// Checks `request` and queues it for whichever node claims it first. The
/// check comes before the database is opened, so a mistake is said to the
/// one who queues: a known kind, a JSON object payload, and for a sync
/// with a "path" a regular file this host can read (nodes are expected to
/// see the same files) and, for contacts, a known format.
/// @returns the job; invalid_argument saying what is wrong, not_found (no
/// such user), database_unavailable.
CATCHUP_API result<enqueued_job>
enqueue_job(const engine_config& config, const job_request& request) noexcept;

/// The jobs in `state` ("pending", "running", "done", "failed",
/// "cancelled"; empty: any), newest first, at most `limit`.
CATCHUP_API result<std::vector<job_info>>
list_jobs(const engine_config& config, const std::string& state,
          std::size_t limit) noexcept;

/// One job. @returns it; not_found ("no job ID").
CATCHUP_API result<job_info> find_job(const engine_config& config,
                                      std::int64_t id) noexcept;

/// Makes a failed or cancelled job pending again (a fresh set of
/// attempts). @returns false when the job is in another state, or a job
/// of its kind and user is pending already.
CATCHUP_API result<bool> retry_job(const engine_config& config,
                                   std::int64_t id) noexcept;

/// Cancels a pending job. @returns false when the job is not pending.
CATCHUP_API result<bool> cancel_job(const engine_config& config,
                                    std::int64_t id) noexcept;

// -- batches of jobs, through an open engine ---------------------------------------
// For a host that queues many jobs and watches them: these calls share one
// database connection the engine opens at the first of them, rather than
// opening the database for each call, so they are cheap enough to poll.

/// Checks `batch` as enqueue_job checks a request and queues its job for
/// every user in one statement: nodes are woken once, at its commit, and
/// find the whole batch there.
/// @returns the jobs, in the order of `batch.user_ids` (created false for
/// a user with a job of that kind pending already, whose id is returned);
/// invalid_argument saying what is wrong, not_found (a user that does not
/// exist: nothing was queued), closed.
CATCHUP_API result<std::vector<enqueued_job>>
enqueue_batch(engine& eng, const job_batch& batch) noexcept;

/// How many of `ids` (at most 100,000) are in each state: how far a batch
/// got. Ids without a job are not counted.
CATCHUP_API result<job_counts>
count_jobs(engine& eng, const std::vector<std::int64_t>& ids) noexcept;

/// The ids of the running jobs whose lease `node_id` holds, in ascending
/// order: what a node works on, or what a node that died left behind (a
/// lease that ran out and nobody took over yet still counts).
CATCHUP_API result<std::vector<std::int64_t>>
jobs_held_by(engine& eng, const std::string& node_id) noexcept;

// -- the cluster -------------------------------------------------------------------

/// The node as `/status` and `catchup cluster status --json` show it: one
/// JSON object (its heap under "allocated_bytes").
CATCHUP_API std::string cluster_node_json(const cluster_node& node);

/// Every node that joined the cluster of `config`'s database, with its
/// latest heartbeat.
CATCHUP_API result<std::vector<cluster_node>>
cluster_nodes(const engine_config& config) noexcept;

/// Removes `node_id` from the cluster's table of nodes, whatever its state
/// (a node taken out of service for good); a node that still runs adds
/// itself back at its next heartbeat.
/// @returns false if there was no such node; invalid_argument for an empty
/// id.
CATCHUP_API result<bool> forget_node(const engine_config& config,
                                     const std::string& node_id) noexcept;

/// A generation a cluster node ran on request (see generate_via).
struct remote_generation {
  /// The node that ran it.
  std::string node_id;
  /// 1, or 2 when the first node chosen failed and another took over.
  std::int32_t attempts = 0;
  generation_summary summary;
};

/// Asks the cluster node at `address` ("host:port", TLS as the settings
/// cluster.tls.* of `config` say) to generate for `user_id`; it runs the
/// generation on the least-pressured node it reaches. `now_unix_s` 0 is
/// this host's clock (moved by clock.offset_s), read before the request
/// leaves; a `timeout` of 0 is the setting cluster.route_timeout_ms.
/// @returns where it ran and what it did; invalid_config (a bad address or
/// TLS settings), timeout, internal with what failed (the node cannot be
/// reached, the TLS handshake failed, the node's own error).
CATCHUP_API result<remote_generation>
generate_via(const engine_config& config, const std::string& address,
             const std::string& user_id, std::int64_t now_unix_s,
             std::chrono::milliseconds timeout) noexcept;

} // namespace catchup::admin
