// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// A node, as `catchup serve` runs one: an engine that takes jobs from the
/// durable queue (and, with cluster.enabled, works in the cluster), with
/// an HTTP endpoint for its operators:
///
/// | route      | answer                                                    |
/// |------------|-----------------------------------------------------------|
/// | `/metrics` | the engine's metrics, Prometheus text format 0.0.4        |
/// | `/livez`   | 200 "ok" while the process serves at all                  |
/// | `/readyz`  | 200 "ready", or 503 with why not (the database out of    |
/// |            | reach, another schema version, stopping, memory critical) |
/// | `/status`  | JSON: the node, its memory, its jobs, the queue, the      |
/// |            | cluster's nodes                                           |
///
/// Settings: http.* (address, port, limits; http.enabled false serves no
/// endpoint), node.* (jobs at once, leases, grace), schedule.*, cluster.*.
/// Signals are the host's: call `stop` when the node should go.

#include <cstdint>
#include <memory>
#include <string>

#include "catchup/engine.hpp"
#include "catchup/error.hpp"
#include "catchup/export.hpp"

namespace catchup {

/// What a node did by the time it stopped.
struct server_totals {
  /// Jobs it finished since it started (done, or failed for good).
  std::uint64_t jobs_completed = 0;
  /// Jobs still running at the stop, handed back to the queue for any
  /// node to take.
  std::uint64_t jobs_handed_back = 0;
};

/// A running node. Thread-safe as its engine is, but for moving,
/// destroying, `stop` and `close`: do those from one thread.
class CATCHUP_API server {
public:
  /// Opens an engine as `engine::open` does, starts the HTTP endpoint (if
  /// http.enabled), starts taking jobs and, with cluster.enabled, joins the
  /// cluster. Logs where it serves and how it takes jobs.
  /// @returns the node; the errors of `engine::open`; invalid_config (the
  /// cluster endpoint cannot be opened, its TLS settings are incomplete);
  /// internal (the HTTP endpoint cannot listen: the message names the
  /// address and why).
  static result<server> start(const engine_config& config) noexcept;

  /// A node that does not run.
  server() noexcept;
  server(server&&) noexcept;
  server& operator=(server&&) noexcept;
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  /// Closes the node (see `close`).
  ~server();

  /// The node's name: its row in the cluster and the lease owner of its
  /// jobs (node.owner, else "host:pid"). Empty for a node that does not run.
  std::string node_id() const;

  /// host:port where the cluster reaches this node; empty unless
  /// cluster.enabled.
  std::string cluster_address() const;

  /// The port the HTTP endpoint listens on (the one picked for
  /// http.port 0); 0 without an endpoint.
  int http_port() const noexcept;

  /// Jobs running on this node now.
  std::uint64_t jobs_in_flight() const noexcept;

  /// The engine the node runs on: generations, suggestions and imports
  /// work on it as on any engine. Valid while the node is not closed.
  /// Closing it closes the node's HTTP endpoint first.
  catchup::engine& engine() noexcept;

  /// Stops taking jobs (/readyz says so at once): jobs in flight get
  /// node.shutdown_grace_ms to finish, the rest go back to the queue; then
  /// the HTTP endpoint stops. The engine stays open until `close`. Only
  /// the first call does anything; later ones return the same totals.
  server_totals stop() noexcept;

  /// `stop`, then closes the engine (and, for a private database it
  /// started, the database server). Idempotent.
  void close() noexcept;

  struct impl;

private:
  explicit server(std::unique_ptr<impl> d) noexcept;
  std::unique_ptr<impl> impl_;
};

} // namespace catchup
