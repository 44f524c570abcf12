// SPDX-License-Identifier: Apache-2.0
#pragma once

// What producers and operators do to the job queue and the nodes table
// beyond one job at a time: queue one job for many users in one statement,
// count a batch's jobs by state, list the jobs a node holds, clear a demo
// data set's jobs, forget a node. Nodes never use this; they go through
// job_queue and node_registry.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "storage/job_queue.hpp"

namespace catchup::storage {

/// The most user ids or job ids one call names (the seed's limit on users);
/// keeps the array parameters bounded.
inline constexpr std::size_t queue_admin_ids_max = 100000;

/// The same job for each of `user_ids` (see queue_admin::enqueue); run_at
/// is on the queue's clock.
using job_batch_request = admin::job_batch;

/// Jobs by state, among the ids asked about.
using job_state_counts = admin::job_counts;

/// One database connection for these statements. Synchronous and not
/// thread-safe. Every method throws `storage_error`: with `invalid_input`
/// for arguments out of range (the message says which), the database's
/// codes otherwise.
class queue_admin {
public:
  /// Jobs are due by `clock` (as job_queue's).
  /// @throws storage_error(db_unavailable) if the server cannot be reached.
  queue_admin(const std::string& url, wall_clock clock,
              std::int64_t statement_timeout_ms = 60000);
  ~queue_admin();
  queue_admin(const queue_admin&) = delete;
  queue_admin& operator=(const queue_admin&) = delete;

  /// Enqueues `batch.kind` for each of its users in one statement, so
  /// nodes are woken once, at its commit; a user with a job of that kind
  /// pending already keeps it (created = false), as job_queue::enqueue.
  /// The kind and payload are the caller's to check (engine_core::check_job).
  /// @returns the jobs, in the order of `batch.user_ids`.
  /// @throws storage_error(not_found) if a user does not exist,
  ///         (invalid_input) for more than queue_admin_ids_max users, an id
  ///         that is not a UUID, a run_at below 0 or max_attempts outside
  ///         1..100.
  std::vector<enqueue_result> enqueue(const job_batch_request& batch);

  /// `ids` by state (ids that do not exist are not counted).
  job_state_counts counts(const std::vector<std::int64_t>& ids);

  /// The running jobs whose lease `owner` holds, by id (an ended lease
  /// nobody took over yet counts as held, as for job_queue::renew).
  std::vector<std::int64_t> held_by(const std::string& owner);

  /// Deletes every job, whatever its state, of the users of seed value
  /// `seed` (e-mail in its seed_user_email domain, whatever their number).
  /// @returns how many jobs were deleted.
  std::int64_t delete_seed_jobs(std::uint64_t seed);

  /// Deletes the row of node `id`, whatever its state; a node still running
  /// registers again at its next heartbeat. False if there was none.
  bool forget_node(const std::string& id);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace catchup::storage
