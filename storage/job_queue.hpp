// SPDX-License-Identifier: Apache-2.0
#pragma once

// The durable job queue in PostgreSQL (table `jobs`, migration 0002) that
// every node takes work from. A claim leases a job to its owner until a
// time on the database's clock; the owner renews the lease while it works
// and completes or fails the job only while it still holds it. A node that
// dies stops renewing, and any node takes its jobs over once their leases
// expired (a rescue); the dead node's late answer is then refused. At most
// one job per (kind, user) is pending at a time.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catchup/records.hpp"
#include "core/clock.hpp"

namespace catchup::storage {

/// One row of `jobs` (the public type: the queue keeps what hosts read).
using job_record = admin::job_info;

/// What `enqueue` did: the new job, or the pending one of the same kind and
/// user that made it a no-op (created = false).
using enqueue_result = admin::enqueued_job;

/// When a failed attempt runs again: the n-th failure waits
/// min(backoff_initial_ms * 2^(n-1), backoff_max_ms), scaled by a random
/// factor in [0.5, 1] so that jobs failing together do not retry together.
struct retry_policy {
  std::int64_t backoff_initial_ms = 1000;
  std::int64_t backoff_max_ms = 600000;
};

/// Jobs by state. `due` are the pending ones whose run_at has come.
struct queue_depth {
  std::int64_t pending = 0;
  std::int64_t due = 0;
  std::int64_t running = 0;
  std::int64_t failed = 0;
  std::int64_t done = 0;
  std::int64_t cancelled = 0;
};

/// The longest lease a claim or renewal may ask for (one day): a longer
/// one would leave a dead node's job stranded for longer than anyone waits.
inline constexpr std::int64_t job_lease_ms_max = 24LL * 3600 * 1000;
/// The most jobs one claim takes.
inline constexpr std::size_t job_claim_batch_max = 1000;
/// The most rows one `list` returns.
inline constexpr std::size_t job_list_rows_max = 100000;
/// The longest a job may be scheduled ahead, a schedule's interval and a
/// retry backoff may be (a year).
inline constexpr std::int64_t job_delay_ms_max = 366LL * 24 * 3600 * 1000;
/// The longest `wait_for_notification` waits (an hour); callers poll.
inline constexpr std::int64_t job_wait_ms_max = 3600LL * 1000;

/// One database connection to the queue. Synchronous and not thread-safe:
/// one actor or thread owns one. Every method throws `storage_error`: with
/// `invalid_input` for arguments out of range, the database's codes
/// otherwise.
class job_queue {
public:
  /// @throws storage_error(db_unavailable) if the server cannot be reached.
  /// Jobs are due, started and finished by `clock`; leases run on the
  /// database server's clock (see job_queue.cpp).
  job_queue(const std::string& url, wall_clock clock,
            std::int64_t statement_timeout_ms = 60000);
  ~job_queue();
  job_queue(const job_queue&) = delete;
  job_queue& operator=(const job_queue&) = delete;

  /// Enqueues a job due at `run_at_unix_ms` (0: now), or returns the
  /// pending job of this kind and user unchanged (created = false).
  /// @throws storage_error(not_found) if the user does not exist,
  ///         (invalid_input) for an unknown kind, a payload that is not a
  ///         JSON object or max_attempts outside 1..100.
  enqueue_result enqueue(const std::string& kind, const std::string& user_id,
                         const std::string& payload_json = "{}",
                         std::int64_t run_at_unix_ms = 0,
                         std::int32_t max_attempts = 5);

  /// Claims up to `n` due jobs, oldest run_at first: pending ones whose
  /// run_at has come, and running ones whose lease expired (a rescue). Each
  /// becomes running with `owner`'s lease of `lease_ms` from now and one
  /// more attempt. Jobs locked by a concurrent claim are skipped, so two
  /// nodes never get the same job. An expired lease on a job's last attempt
  /// fails the job instead (its worker died on every attempt). One
  /// statement; the result is in claim order.
  std::vector<job_record> claim(const std::string& owner, std::size_t n,
                                std::int64_t lease_ms);

  /// Extends to `lease_ms` from now the leases `owner` still holds among
  /// `ids`, and returns those ids; a job another node took over is no
  /// longer held. An expired lease nobody took over is still held.
  std::vector<std::int64_t> renew(const std::string& owner,
                                  const std::vector<std::int64_t>& ids,
                                  std::int64_t lease_ms);

  /// Marks the job done if `owner` holds its lease; false otherwise (it was
  /// taken over, released or finished: the late answer is refused).
  bool complete(std::int64_t id, const std::string& owner);

  /// Records a failed attempt if `owner` holds the lease. Attempts left:
  /// pending again after the policy's backoff; none left: "failed". Either
  /// way `error` is kept. If another job of the same kind and user is
  /// pending already, this one ends "cancelled" as superseded by it.
  /// @returns the new state ("pending", "failed" or "cancelled"), or "" if
  ///          `owner` does not hold the lease.
  std::string fail(std::int64_t id, const std::string& owner,
                   const std::string& error, const retry_policy& policy = {});

  /// Ends now the leases `owner` holds (a node its peers saw die), so the
  /// next claim by any node rescues those jobs at once instead of after
  /// their lease ran out. A job on its last attempt is failed by that claim
  /// instead, as for any expired lease. The owner's late complete/fail is
  /// refused as for any taken-over lease once another node claimed the
  /// job; until then an expired lease nobody took over is still held (see
  /// `renew`), so a node declared down by mistake loses nothing it can
  /// still finish. Leases that had expired already are left alone.
  /// @returns how many leases were ended.
  std::int64_t expire_leases(const std::string& owner);

  /// Graceful shutdown: hands the jobs `owner` holds among `ids` back,
  /// pending and due at once, without counting the interrupted attempt,
  /// unless that attempt had run for more than `counted_after_ms` (the
  /// lease) on the queue's clock: then it counts, as a job that outlives
  /// its lease wherever it runs would move from node to node for ever, and
  /// with no attempt left the job fails with that reason. One superseded by
  /// a pending job of its kind and user is cancelled.
  /// @returns how many jobs were handed back (failed and cancelled ones
  /// included).
  std::size_t release(const std::string& owner,
                      const std::vector<std::int64_t>& ids,
                      std::int64_t counted_after_ms
                      = std::numeric_limits<std::int64_t>::max());

  /// The job, if it exists.
  std::optional<job_record> get(std::int64_t id);

  /// Up to `limit` jobs in `state` ("" for all), newest first.
  std::vector<job_record> list(const std::string& state, std::size_t limit);

  /// Makes a failed or cancelled job pending and due now, with its
  /// attempts reset. False if the job is in another state or another job
  /// of its kind and user is pending.
  bool retry(std::int64_t id);

  /// Cancels a pending job; false if it is not pending.
  bool cancel(std::int64_t id);

  /// Jobs by state.
  queue_depth depth();

  /// The recurring generation schedule `name`: if it is due (never run, or
  /// its next_due_at has come) and no other node is running it right now,
  /// enqueues a "generate" job for every active user, with run_at spread
  /// evenly over [now, now + interval_ms) in user id order, and makes it due
  /// again in `interval_ms`. Users with a generation pending already are
  /// skipped. One transaction under an advisory lock, so nodes calling at
  /// once enqueue each user once.
  /// @returns the jobs enqueued (0 when not due).
  std::int64_t schedule_generation(const std::string& name,
                                   std::int64_t interval_ms);

  /// Subscribes this connection to the queue's notifications (a job became
  /// pending). Call once, before the first look at the queue that
  /// `wait_for_notification` is to follow, so that no wake-up is lost.
  void listen();

  /// Waits up to `timeout_ms` for a notification since the last call (or
  /// since `listen`). True if one arrived; a notification may come for a
  /// job another node claims first, so the caller claims and may find none.
  /// @throws storage_error(invalid_input) if `listen` was not called.
  bool wait_for_notification(std::int64_t timeout_ms);

  /// Now on the queue's clock (the one run_at is on), Unix milliseconds.
  std::int64_t now_unix_ms() const;

  /// Now on the database server's clock (the one leases are on), Unix
  /// milliseconds.
  std::int64_t lease_clock_unix_ms();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace catchup::storage
