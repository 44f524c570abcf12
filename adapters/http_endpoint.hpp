// SPDX-License-Identifier: Apache-2.0
#pragma once

// The HTTP endpoint a node process serves for its operators: Prometheus
// metrics, liveness, readiness and a JSON status. It knows nothing of the
// engine: every answer comes from a callback, so a host wires it to its
// engine (metrics registry, memory sample, database check) and tests wire
// it to plain functions, without a database.
//
// A connection gate (`http_connection_gate.hpp`) accepts connections and
// holds each one until its request header is whole, within a total
// deadline; only then does one of `threads_max` workers answer it through
// cpp-httplib. Idle and slow-drip clients hold no worker, so /livez and
// /readyz answer at once behind hundreds of them; past `connections_max`
// open connections a new one gets 503. Callbacks run on the workers, up to
// `threads_max` at once, so they must be thread-safe, and a scrape or a
// probe waits for them, so they should answer from figures at hand rather
// than start work of their own.
//
// Routes (GET; HEAD answers the same headers without the body):
//   /metrics  200, Prometheus text format 0.0.4, from `metrics_text`
//   /livez    200 "ok\n" whenever the process serves at all
//   /readyz   200 "ready\n", or 503 with the reason, from `ready`
//   /status   200, a JSON object, from `status_json`
// Any other path is 404; any other method on those paths is 405 (with an
// Allow header). A callback that throws, or a status that is not a JSON
// object, gives 500 with a one-line error; the endpoint keeps serving.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace catchup {

/// Where the endpoint listens and the limits it serves under. The
/// constructor throws std::invalid_argument for a value out of range.
struct http_endpoint_options {
  /// The address to listen on (an IPv4 or IPv6 address, or a host name).
  /// The default serves this host only: metrics and status are for a
  /// scraper or an orchestrator, not for the open network.
  std::string bind_address = "127.0.0.1";
  /// 0..65535; 0 picks a free port (tests), see `http_endpoint::port`.
  /// 9464 is the port Prometheus exporters of OpenTelemetry use by default.
  int port = 9464;
  /// The whole request header must arrive within this time of the
  /// connection's accept, in total (bytes that trickle in do not renew
  /// it); a late one gets 408 and is closed.
  int request_timeout_ms = 5000;
  /// Bounds writing a response, in total, to a client that does not read.
  int write_timeout_ms = 5000;
  /// Worker threads, the most requests answered at once (1..64): a scrape
  /// every few seconds and a probe or two need no more, and a flood of
  /// requests cannot take threads from the engine. Connections waiting for
  /// their request hold none.
  std::size_t threads_max = 4;
  /// Open connections at most (1..800), waiting for their request or being
  /// answered; one more gets "503 too many connections" at once. The listen
  /// backlog is as long, so a burst waits in the kernel.
  std::size_t connections_max = 512;
  /// Bytes of a request header at most (431 beyond), and of a body
  /// httplib would read (413 beyond). No route takes a body: methods other
  /// than GET and HEAD are answered before theirs is read, and httplib 0.11
  /// never reads a GET body.
  std::size_t request_bytes_max = 8192;
};
/// Whether the process can take work now, and if not, why.
struct readiness {
  bool ready = false;
  /// Why not, one line for an operator: "database unreachable: ...",
  /// "schema version 1, binary expects 2", "memory circuit breaker open
  /// (critical: ...)". Ignored when ready.
  std::string reason;
};

/// Where the answers come from. All three are required (the constructor
/// throws std::invalid_argument for an empty one). They are called on the
/// endpoint's worker threads, possibly at once, and may throw: the request
/// gets a 500 and the endpoint keeps serving.
struct http_endpoint_callbacks {
  /// GET /metrics: the Prometheus text exposition, e.g.
  /// `metrics_registry::render_prometheus`.
  std::function<std::string()> metrics_text;
  /// GET /readyz.
  std::function<readiness()> ready;
  /// GET /status: a JSON object (anything else gives 500).
  std::function<std::string()> status_json;
};

/// The endpoint: listening and serving from construction to `stop` or
/// destruction.
class http_endpoint {
public:
  /// Binds `options.bind_address`:`options.port` and starts serving; returns
  /// once the accept loop runs (a request made right away is served).
  /// @throws std::invalid_argument for options out of range or an empty
  /// callback.
  /// @throws std::runtime_error naming the address and port and the reason
  /// ("Address already in use") if it cannot listen there.
  http_endpoint(http_endpoint_options options,
                http_endpoint_callbacks callbacks);
  /// Stops and joins, as `stop`.
  ~http_endpoint();
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  /// The port listened on: `options.port`, or the one picked for 0.
  int port() const;

  /// Stops accepting, lets the requests in progress finish (each within the
  /// timeouts) and joins the threads; later calls do nothing. Must not be
  /// called from a callback, which runs on a thread it joins.
  void stop();

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace catchup
