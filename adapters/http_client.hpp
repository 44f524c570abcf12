// SPDX-License-Identifier: Apache-2.0
#pragma once

// The engine's one outbound HTTP client: every request the engine sends
// (the Google APIs and their token endpoint today) goes through it, so
// every one has the same bounds. A request is a method, a URL, headers and
// a body; the answer is a status, headers and a body of at most
// `response_bytes_max` bytes, or an error that says what failed, at which
// host and why. Nothing is thrown for a failed request.
//
// Bounds: a connect, a read and a write timeout, and one deadline for the
// whole request (redirects included; a watchdog cuts the connection when
// it passes, so a server that stalls or trickles bytes cannot hold the
// caller past it). HTTPS verifies the server's certificate and host name
// against the system's CA bundle (or `ca_cert_path`). Every destination is
// resolved and checked against `http_destination_policy` before the
// connection (loopback and private ranges refused unless allowed), and
// every redirect is followed only as `redirects_max` says, never from
// https to http, each target checked again. Header values with control
// characters are refused, not sent. Name resolution takes as long as the
// system's resolver does.
//
// Blocking; not thread-safe (one client per caller). Connections are kept
// alive per origin, so a caller paging through an API reuses one.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/http_destination.hpp"

namespace catchup {

/// Limits and policies of one client; each has a field of the caller's
/// options (or a configuration key) behind it. The constructor throws
/// std::invalid_argument for a value out of range.
struct http_client_params {
  /// Establishing a connection (TCP and TLS handshake), 1 ms at least.
  int connect_timeout_ms = 30000;
  /// Each read and each write on the connection.
  int read_timeout_ms = 30000;
  int write_timeout_ms = 30000;
  /// The whole request, from the call to the last byte of the body,
  /// redirects included.
  int request_timeout_ms = 30000;
  /// Bytes of a response body, after decompression (1 at least); a larger
  /// one is an error, and the connection is dropped.
  std::size_t response_bytes_max = 64 << 20;
  /// Redirects followed per request (0..20). 0: a redirect is an error
  /// (`redirect_refused`) and nothing is followed.
  int redirects_max = 0;
  /// A PEM bundle of trusted CAs; empty: OpenSSL's default paths, which are
  /// the system's bundle (Debian: /etc/ssl/certs).
  std::string ca_cert_path;
  http_destination_policy destinations;
};

using http_header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  /// "GET", "POST", "PUT", "DELETE", ...
  std::string method = "GET";
  /// An absolute http(s) URL (see `parse_http_url`), percent-encoded by the
  /// caller.
  std::string url;
  /// Sent as given, after Host; values are checked (no control
  /// characters). An "Authorization" header is not carried over by a
  /// redirect to another origin.
  http_header_list headers;
  /// Sent with a Content-Length; a "Content-Type" header says what it is.
  std::string body;
};

struct http_response {
  int status = 0;
  http_header_list headers;
  /// Decompressed, at most `response_bytes_max` bytes.
  std::string body;
  /// The URL that answered (another than the request's after a redirect).
  std::string url;

  /// The first value of header `name` (any case), or "".
  std::string header(std::string_view name) const;
};

/// What failed.
enum class http_failure {
  none,
  /// The request itself: a URL the parser refuses, a header value with a
  /// control character. Nothing was sent.
  bad_request,
  /// The destination is in a range the policy refuses. Nothing was sent.
  destination_refused,
  /// The host name did not resolve.
  name_resolution,
  /// No connection (refused, unreachable).
  connect,
  /// The TLS handshake failed.
  tls_handshake,
  /// The server's certificate is not trusted or not for this host, or the
  /// CA bundle could not be loaded.
  tls_verification,
  /// No connection within connect_timeout_ms, or no complete response
  /// within request_timeout_ms.
  timeout,
  /// The connection broke (or a read or write timed out) mid-request.
  io,
  /// The body was larger than response_bytes_max.
  too_large,
  /// A redirect the policy does not follow: redirects_max is 0 or used up,
  /// https to http, or a Location that is no URL.
  redirect_refused,
  /// Anything else httplib reports (a body it cannot decompress).
  other,
};

/// "timeout", "too_large", ...: for logs and metrics labels.
const char* to_string(http_failure failure);

struct http_error {
  http_failure failure = http_failure::none;
  /// "host:port" of the request (of the redirect's target when that is
  /// what failed).
  std::string host;
  /// The status of the response that failed (a redirect, a body too
  /// large); 0 when none arrived.
  int status = 0;
  /// One line: what failed, at which host, and why, naming the limit
  /// that was hit ("no complete response from example.com:443 within
  /// request_timeout_ms (30000 ms)"). Never quotes a query or a header
  /// value: either may hold a secret.
  std::string message;
};

/// A response, or the error that stopped the request.
struct http_result {
  http_response response;
  http_error error;

  bool ok() const noexcept {
    return error.failure == http_failure::none;
  }
};

class http_client {
public:
  explicit http_client(http_client_params params);
  ~http_client();
  http_client(http_client&&) noexcept;
  http_client& operator=(http_client&&) noexcept;
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends `request` and follows redirects as the params say. Any HTTP
  /// status is a response; only the failures of `http_failure` are errors.
  http_result send(const http_request& request);

  const http_client_params& params() const;

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace catchup
