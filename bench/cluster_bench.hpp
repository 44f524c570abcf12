// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>

#include <catchup/engine.hpp>

namespace catchup::bench {

/// The most nodes `catchup bench --cluster` starts: they all run on this
/// machine, beside one PostgreSQL server, so more would measure the
/// machine rather than the cluster.
inline constexpr std::int64_t cluster_bench_nodes_max = 3;
/// The most jobs per run: one seeded user per job, and the seed makes at
/// most this many users.
inline constexpr std::int64_t cluster_bench_jobs_max = 100000;

/// What `catchup bench --cluster` runs.
struct cluster_bench_options {
  /// Runs with 1, 2, ... this many nodes (1..cluster_bench_nodes_max).
  std::int64_t nodes_max = cluster_bench_nodes_max;
  /// Generation jobs per run, one per seeded user of 20 contacts
  /// (1..cluster_bench_jobs_max).
  std::int64_t jobs = 3000;
  /// Print JSON instead of a table.
  bool as_json = false;
  /// Sets what runs on SIGINT or SIGTERM before the process ends (an empty
  /// function clears it): the host's signal plumbing, through which the
  /// bench kills its nodes and stops a private database it started. Empty:
  /// no cleanup on a signal.
  using interrupt_setter = std::function<void(std::function<void()>)>;
  interrupt_setter on_interrupt;
};

/// Opens an engine on `config` (with a private cluster of the benchmarks'
/// own unless a database is configured, see bench_config), starts 1..
/// nodes_max `catchup serve` nodes of this binary as a cluster on this
/// machine and times how fast they drain `jobs` generation jobs together;
/// with two nodes or more it also SIGKILLs a node holding leases and times
/// until the others have taken over all of its jobs (death-to-rescue).
/// Seeds its users once (kept for later runs) and deletes its own jobs and
/// nodes of earlier runs first. Every node it started is gone when it
/// returns or throws. Returns the process exit code.
/// @throws std::runtime_error naming the wait that ran out, and failure if
///         the engine or the database fails.
int run_cluster_bench(const engine_config& config,
                      const cluster_bench_options& options);

} // namespace catchup::bench
