// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The rows of the tables nodes share, as hosts read them: the durable job
/// queue's (a job, what queueing one did, a batch of jobs, jobs counted by
/// state) and the cluster's nodes. Standard types only, so the operator
/// tasks of catchup/admin.hpp and the store that keeps these tables speak
/// the same types.

#include <cstdint>
#include <string>
#include <vector>

namespace catchup::admin {

/// What `enqueue_job` did.
struct enqueued_job {
  std::int64_t id = 0;
  /// False when a pending job of the same kind and user was there already
  /// (its id is returned and nothing was queued).
  bool created = false;
};

/// One job of the queue. Times are Unix milliseconds, 0 when not set:
/// run_at and finished on the queue's clock, created and lease_expires on
/// the database's.
struct job_info {
  std::int64_t id = 0;
  std::string kind;
  std::string user_id;
  /// The JSON object it was queued with.
  std::string payload_json;
  /// "pending", "running", "done", "failed" or "cancelled".
  std::string state;
  /// Attempts started, a running one included.
  std::int32_t attempts = 0;
  std::int32_t max_attempts = 0;
  std::int64_t run_at_unix_ms = 0;
  /// Why the latest attempt failed; empty if none did.
  std::string last_error;
  /// The node holding the job while it runs, and until when.
  std::string lease_owner;
  std::int64_t lease_expires_unix_ms = 0;
  std::int64_t created_unix_ms = 0;
  std::int64_t finished_unix_ms = 0;
};

/// The same job for many users (see enqueue_batch).
struct job_batch {
  /// "generate", "sync_contacts" or "sync_calendar".
  std::string kind;
  /// At most 100,000.
  std::vector<std::string> user_ids;
  /// A JSON object, as job_request::payload_json.
  std::string payload_json = "{}";
  /// When the jobs are due, Unix milliseconds; 0: now.
  std::int64_t run_at_unix_ms = 0;
  /// Attempts before a job stays failed, 1..100.
  std::int32_t max_attempts = 5;
};

/// Jobs by state (see count_jobs).
struct job_counts {
  std::int64_t pending = 0;
  std::int64_t running = 0;
  std::int64_t done = 0;
  std::int64_t failed = 0;
  std::int64_t cancelled = 0;
};

/// One node as the cluster's table of nodes knows it. Times are Unix
/// milliseconds on the database's clock, 0 when not set.
struct cluster_node {
  /// The node's name, the lease owner of its jobs ("host:pid").
  std::string id;
  /// host:port of its cluster endpoint; empty when it does not cluster.
  std::string address;
  std::string version;
  /// "up", "down" or "left".
  std::string state;
  /// Memory pressure at its latest heartbeat: "normal", "elevated", "high"
  /// or "critical".
  std::string level;
  std::int64_t heap_bytes = 0;
  std::int64_t budget_bytes = 0;
  std::int64_t jobs_in_flight = 0;
  std::int64_t started_unix_ms = 0;
  std::int64_t heartbeat_unix_ms = 0;
  /// How long ago its latest heartbeat was, on the database's clock.
  std::int64_t heartbeat_age_ms = 0;
  /// When it was declared down and why; 0 and empty unless down.
  std::int64_t down_unix_ms = 0;
  std::string down_reason;
};

} // namespace catchup::admin
