// SPDX-License-Identifier: Apache-2.0
#pragma once

// A local stand-in for Google's APIs in the google_client tests: an HTTP
// server on 127.0.0.1 (a free port) that serves scripted responses and
// records every request it got. No network beyond the loopback.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace catchup::test {

/// One scripted reply.
struct fake_response {
  using header_list = std::vector<std::pair<std::string, std::string>>;

  fake_response() = default;
  fake_response(int status_code, std::string body_text,
                header_list extra_headers = {})
    : status(status_code), body(std::move(body_text)),
      headers(std::move(extra_headers)) {
    // nop
  }

  int status = 200;
  std::string body;
  /// Extra headers ("Retry-After", "2").
  header_list headers;
  std::string content_type = "application/json; charset=UTF-8";
};

/// One request as the server got it.
struct recorded_request {
  std::string method;
  /// The path, percent-decoded, without the query.
  std::string path;
  /// The request target as sent (path and query, still encoded).
  std::string target;
  /// Query parameters and, for a form POST, the form fields; decoded.
  std::multimap<std::string, std::string> params;
  std::string authorization;
  /// Every header name the request carried, as received.
  std::vector<std::string> header_names;
  std::string body;

  bool has(const std::string& key) const {
    return params.count(key) > 0;
  }
  /// The first value of `key`, or "" when absent.
  std::string param(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? std::string{} : it->second;
  }
};

/// Serves until destroyed. Requests are answered from per-(method, path)
/// queues in order; the last response of a queue is served again for every
/// further request, so one scripted 503 means "503 for ever". A request with
/// nothing scripted gets a 404 in Google's error format.
class fake_google_server {
public:
  /// Binds 127.0.0.1 on a free port and starts serving; returns once the
  /// server accepts connections (throws std::runtime_error if it cannot).
  fake_google_server();
  ~fake_google_server();
  fake_google_server(const fake_google_server&) = delete;
  fake_google_server& operator=(const fake_google_server&) = delete;

  /// "http://127.0.0.1:PORT".
  std::string base_url() const;

  /// Appends `responses` to the queue of `method` `path` (decoded path).
  void script(const std::string& method, const std::string& path,
              std::vector<fake_response> responses);

  /// Every request so far, in arrival order.
  std::vector<recorded_request> requests() const;
  /// The requests to `method` `path`, in arrival order.
  std::vector<recorded_request> requests_to(const std::string& method,
                                            const std::string& path) const;

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace catchup::test
