// SPDX-License-Identifier: Apache-2.0
#pragma once

// The sockets side of the node's HTTP endpoint: it listens, accepts and
// holds each connection until its request header is complete, and only
// then hands the connection to one of a few workers, which answer it
// through cpp-httplib (`serve`). So a worker never waits on a client:
// idle connections and clients that drip a byte every few seconds cost a
// descriptor and a few bytes each, never a thread, and a probe behind 400
// of them is answered at once.
//
// cpp-httplib 0.11 gives each accepted connection a worker that reads with
// a timeout renewed by every byte, from a listen backlog of 5: 30 idle or
// slow clients starve every probe. Here:
//   - one thread waits (epoll) on the listening socket and every pending
//     connection, reading what arrives into the connection's buffer;
//   - a request must be whole within `request_timeout_ms` of its accept
//     (a total, not renewed by bytes), or it gets 408 and is closed;
//   - a header past `request_header_bytes_max` gets 431 and is closed;
//   - at `connections_max` open connections a new one gets 503 at once;
//   - the listen backlog is `connections_max`, so a burst waits in the
//     kernel rather than being refused;
//   - a worker writes the answer within `write_timeout_ms` in total.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace httplib {
class Stream;
} // namespace httplib

namespace catchup {

struct connection_gate_limits {
  std::size_t connections_max = 512;
  std::size_t request_header_bytes_max = 8192;
  int request_timeout_ms = 5000;
  int write_timeout_ms = 5000;
  std::size_t threads_max = 4;
};

class connection_gate {
public:
  /// Answers one whole request on the stream (reads it, writes the answer).
  using serve_function = std::function<void(httplib::Stream&)>;

  /// Binds and listens on `address`:`port` (0 picks a free port) and starts
  /// the accept thread and the workers.
  /// @throws std::runtime_error "cannot listen on ADDRESS:PORT: why".
  connection_gate(const std::string& address, int port,
                  connection_gate_limits limits, serve_function serve);
  /// Stops, as `stop`.
  ~connection_gate();
  connection_gate(const connection_gate&) = delete;
  connection_gate& operator=(const connection_gate&) = delete;

  int port() const;

  /// Closes the listening socket and the connections whose request is not
  /// whole yet, answers the whole ones already handed to workers, joins
  /// every thread. Later calls do nothing.
  void stop();

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace catchup
