// SPDX-License-Identifier: Apache-2.0
#pragma once

// The node's job dispatcher: claims jobs from the PostgreSQL queue
// (storage/job_queue.hpp) within the memory policy, runs each in its own
// detached actor, renews their leases by heartbeat, completes or fails them
// on the lease it holds, and hands its jobs back on a graceful stop.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/memory_supervisor.hpp"
#include "core/clock.hpp"
#include "core/pressure.hpp"
#include "config/settings.hpp"
#include "storage/job_queue.hpp"

namespace catchup {

/// How a node takes work from the queue.
struct worker_options {
  /// This node's name in lease_owner ("host:pid" by default).
  std::string owner;
  /// A claimed job is this node's until its lease runs out; the heartbeat
  /// renews it every third of it. A node that dies stops renewing, and any
  /// node takes the job over once it expired.
  std::int64_t lease_ms = 30000;
  /// The fallback when no NOTIFY arrives (a lost connection, a job whose
  /// run_at comes due): claim at least this often.
  std::int64_t poll_interval_ms = 1000;
  /// Jobs in flight at normal pressure; under pressure the concurrency
  /// share of `policy` (elevated: all, high: half, critical: no new
  /// claims - the generation concurrency policy).
  std::size_t jobs_max = 8;
  /// The pressure policy table; an engine's worker
  /// (engine_core::start_worker) runs with the engine's own.
  pressure_policy_table policy;
  /// Enqueue generation for every active user this often (spread over the
  /// interval); 0 disables this node's scheduler.
  std::int64_t generate_interval_ms = 6LL * 3600 * 1000;
  /// How often the scheduler checks whether the schedule is due.
  std::int64_t schedule_check_ms = 60000;
  /// Retry backoff of failed jobs.
  storage::retry_policy retry;
  /// A job that failed because the database was out of reach (not because
  /// of the job) runs again on this node, after a backoff from
  /// retry.backoff_initial_ms doubling, without using an attempt, for at
  /// most this long since its first such failure; after it, the failure
  /// counts like any other.
  std::int64_t transient_retry_max_ms = 60000;
  std::int64_t statement_timeout_ms = 60000;
  /// Called before jobs still running are handed back on a stop, so their
  /// work stops too (imports at their next page) before another node can
  /// claim them. May be empty.
  std::function<void()> on_release;
};

/// What a worker did; updated by the dispatcher, read from any thread.
struct worker_figures {
  std::atomic<std::uint64_t> claimed{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> failed{0};
  /// Jobs handed back on a graceful stop.
  std::atomic<std::uint64_t> released{0};
  /// Jobs whose lease another node took over while this one ran them.
  std::atomic<std::uint64_t> leases_lost{0};
  /// Runs repeated after a database outage, without using an attempt.
  std::atomic<std::uint64_t> transient_retries{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> wakeups{0};
  std::atomic<bool> draining{false};
};

/// How one run of a job ended.
struct job_result {
  /// Empty when it succeeded, else why it failed.
  std::string error;
  /// The failure was the database's (unreachable, connection lost), not
  /// the job's: it is retried without using an attempt.
  bool transient = false;
};

/// Runs one job to its end on the calling (detached) thread. May throw;
/// that counts as a failure of the job.
using job_executor = std::function<job_result(const storage::job_record&)>;

/// Spawns the dispatcher and its NOTIFY listener (each on a connection of
/// its own). Ask it to stop with (atom::stop, grace ms): it stops claiming,
/// lets jobs in flight finish within the grace period, hands the rest back
/// to the queue, replies true, and exits.
caf::actor spawn_dispatcher(caf::actor_system& sys, std::string database_url,
                            wall_clock clock, worker_options options, job_executor execute,
                            memory_supervisor_actor supervisor,
                            std::shared_ptr<worker_figures> figures);

/// The worker options the settings name (node.*, schedule.*); the owner
/// defaults to "host:pid".
worker_options worker_options_from(const config::settings& s);

/// The worker's figures in the Prometheus text format
/// (catchup_jobs_*_total, catchup_jobs_in_flight).
std::string render_worker_metrics(const worker_figures& w);

} // namespace catchup
