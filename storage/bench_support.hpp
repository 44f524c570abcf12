// SPDX-License-Identifier: Apache-2.0
#pragma once

// The job queue as a benchmark sees it when it drives `catchup serve` nodes
// from outside: it resets the jobs of its own users, fills the queue in one
// statement, and watches jobs by id. Nodes never use this; they go through
// job_queue and node_registry.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace catchup::storage {

/// The most user ids or job ids one call names (the seed's limit on users:
/// a bench never has more jobs than users); keeps the array parameters
/// bounded.
inline constexpr std::size_t bench_ids_per_call_max = 100000;

/// Jobs by state, among the ids a bench asked about.
struct bench_job_counts {
  std::int64_t pending = 0;
  std::int64_t running = 0;
  std::int64_t done = 0;
  std::int64_t failed = 0;
  std::int64_t cancelled = 0;
};

/// One database connection for a benchmark. Synchronous and not
/// thread-safe. Every method throws `storage_error`: with `invalid_input`
/// for too many ids or an empty domain or node prefix, the database's codes
/// otherwise.
class bench_queue {
public:
  /// @throws storage_error(db_unavailable) if the server cannot be reached.
  explicit bench_queue(const std::string& url,
                       std::int64_t statement_timeout_ms = 60000);
  ~bench_queue();
  bench_queue(const bench_queue&) = delete;
  bench_queue& operator=(const bench_queue&) = delete;

  /// Deletes every job, whatever its state, of the users whose e-mail is
  /// in `email_domain` (a seed's users: "seed<N>.example", see
  /// seed_user_email, whatever their number), and every row of `nodes`
  /// whose id starts with `node_prefix`, in one transaction: the bench's
  /// earlier runs, and any node of them that died, are gone.
  void reset(const std::string& email_domain, const std::string& node_prefix);

  /// Jobs pending or running of users outside `email_domain`: the bench's
  /// nodes would take those too.
  std::int64_t other_open_jobs(const std::string& email_domain);

  /// Enqueues a "generate" job with `payload_json` for each of `user_ids`
  /// in one statement (so nodes are woken once, at its commit) and returns
  /// the jobs' ids. A user with a generation pending already keeps it, and
  /// its id is returned.
  std::vector<std::int64_t>
  enqueue_generations(const std::vector<std::string>& user_ids,
                      const std::string& payload_json);

  /// `ids` by state (ids that do not exist are not counted).
  bench_job_counts counts(const std::vector<std::int64_t>& ids);

  /// The running jobs whose lease `owner` holds, by id.
  std::vector<std::int64_t> held_by(const std::string& owner);

  /// How many of `ids` are still running under `owner`'s lease (an ended
  /// lease nobody took over yet counts as still held).
  std::int64_t still_held(const std::vector<std::int64_t>& ids,
                          const std::string& owner);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace catchup::storage
