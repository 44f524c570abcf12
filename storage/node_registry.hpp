// SPDX-License-Identifier: Apache-2.0
#pragma once

// Cluster membership in PostgreSQL (table `nodes`, migration 0003). Each
// node registers under its name (the text it leases jobs under, "host:pid")
// and beats on its row with its load; peers list the rows, declare a node
// they saw die down (and end its leases with job_queue::expire_leases), and
// prune nodes long gone. Every time is on the database's clock, as the
// leases are, so nodes whose clocks disagree still agree on a beat's age.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catchup/records.hpp"

namespace catchup::storage {

/// One row of `nodes` (the public type: the table keeps what hosts read);
/// heap_bytes is the column allocated_bytes.
using node_record = admin::cluster_node;

/// What a node reports with each beat.
struct node_heartbeat {
  /// "normal", "elevated", "high" or "critical" (core/pressure.hpp).
  std::string level = "normal";
  /// At least 0 each; jobs_in_flight at most node_jobs_in_flight_max.
  std::int64_t allocated_bytes = 0;
  std::int64_t budget_bytes = 0;
  std::int64_t jobs_in_flight = 0;
};

/// The most rows one `list` returns.
inline constexpr std::size_t node_list_rows_max = 10000;
/// The longest node name, in bytes: the same bound as a job's lease owner,
/// since a node leases jobs under its name.
inline constexpr std::size_t node_id_bytes_max = 200;
/// The longest cluster address ("host:port": a DNS name is at most 253
/// bytes), version and down reason, in bytes.
inline constexpr std::size_t node_address_bytes_max = 300;
inline constexpr std::size_t node_version_bytes_max = 200;
inline constexpr std::size_t node_down_reason_bytes_max = 1000;
/// The most jobs in flight a beat may report (the column is an integer).
inline constexpr std::int64_t node_jobs_in_flight_max = 2147483647;
/// The oldest a `prune` may ask for (a year): the argument is a duration,
/// and a larger one is a unit mistake.
inline constexpr std::int64_t node_prune_age_ms_max
  = 366LL * 24 * 3600 * 1000;

/// One database connection to the membership table. Synchronous and not
/// thread-safe: one actor or thread owns one. Every method throws
/// `storage_error`: with `invalid_input` for arguments out of range (the
/// message says which and why), the database's codes otherwise.
class node_registry {
public:
  /// @throws storage_error(db_unavailable) if the server cannot be reached.
  explicit node_registry(const std::string& url,
                         std::int64_t statement_timeout_ms = 10000);
  ~node_registry();
  node_registry(const node_registry&) = delete;
  node_registry& operator=(const node_registry&) = delete;

  /// Registers `id` (or again, after a restart or a prune): its row is up,
  /// started and beaten now, with this address, version and `load` (the
  /// node's figures at registration, so a reader never sees a live node
  /// without its budget, however soon it dies), any down mark cleared.
  /// @throws storage_error(invalid_input) for an empty or overlong id, an
  ///         overlong address or version, text that is not UTF-8, or a
  ///         load `heartbeat` would refuse.
  void register_node(const std::string& id, const std::string& address,
                     const std::string& version,
                     const node_heartbeat& load = {});

  /// Records a beat: heartbeat_at now, the load figures set, and the node
  /// up with any down mark cleared (a node declared down, or one that left,
  /// that beats again has rejoined).
  /// @returns false if there is no row for `id` (pruned, or never
  ///          registered): the caller registers again.
  /// @throws storage_error(invalid_input) for a bad id, an unknown level or
  ///         a figure out of range.
  bool heartbeat(const std::string& id, const node_heartbeat& hb);

  /// Every node, ordered by id, at most `limit` rows.
  /// @throws storage_error(invalid_input) unless 1 <= limit <=
  ///         node_list_rows_max.
  std::vector<node_record> list(std::size_t limit = 1000);

  /// Declares `id` down, at now and for `reason` (who saw what), if it is
  /// up and has not beaten for `silent_for_ms`: a caller that decided a
  /// while ago (its request queued behind a slow database) passes how long
  /// ago, and a node that beat since is alive and stays up. A node down or
  /// gone already stays as it is.
  /// @returns true if it changed.
  /// @throws storage_error(invalid_input) for a bad id, a reason empty,
  ///         overlong or not UTF-8, or silent_for_ms outside
  ///         0..node_prune_age_ms_max.
  bool mark_down(const std::string& id, const std::string& reason,
                 std::int64_t silent_for_ms = 0);

  /// Records a graceful stop: `id` is "left", any down mark cleared. No-op
  /// if there is no row.
  void leave(const std::string& id);

  /// Deletes the nodes that are not up and whose latest beat is older than
  /// `older_than_ms`.
  /// @returns how many were deleted.
  /// @throws storage_error(invalid_input) unless 0 <= older_than_ms <=
  ///         node_prune_age_ms_max.
  std::int64_t prune(std::int64_t older_than_ms);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace catchup::storage
