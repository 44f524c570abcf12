// SPDX-License-Identifier: Apache-2.0
#include "adapters/http_client.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <httplib.h>

#include "adapters/http_header_check.hpp"
#include "adapters/http_url.hpp"

namespace catchup {

namespace {

using steady = std::chrono::steady_clock;

// Enough for any real chain (browsers stop at 20); a longer one loops.
constexpr int redirects_limit = 20;

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              auto lower = [](char c) {
                return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                            : c;
              };
              return lower(x) == lower(y);
            });
}

// Removes the headers named `names` (any case) from `headers`.
void drop_headers(http_header_list& headers,
                  std::initializer_list<std::string_view> names) {
  auto named = [&](const auto& header) {
    return std::any_of(names.begin(), names.end(), [&](std::string_view n) {
      return same_name(header.first, n);
    });
  };
  headers.erase(std::remove_if(headers.begin(), headers.end(), named),
                headers.end());
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307
         || status == 308;
}

void check_params(const http_client_params& p) {
  auto require = [](bool ok, const char* why) {
    if (!ok)
      throw std::invalid_argument(std::string{"http_client_params: "} + why);
  };
  require(p.connect_timeout_ms >= 1, "connect_timeout_ms must be >= 1");
  require(p.read_timeout_ms >= 1, "read_timeout_ms must be >= 1");
  require(p.write_timeout_ms >= 1, "write_timeout_ms must be >= 1");
  require(p.request_timeout_ms >= 1, "request_timeout_ms must be >= 1");
  require(p.response_bytes_max >= 1, "response_bytes_max must be >= 1");
  require(p.redirects_max >= 0 && p.redirects_max <= redirects_limit,
          "redirects_max must be 0..20");
}

std::string ms_text(const char* name, int ms) {
  return std::string{name} + " (" + std::to_string(ms) + " ms)";
}

// -- the deadline ---------------------------------------------------------------

// Cuts the connection of a request still running at its deadline. httplib
// bounds each read by its read timeout, which every byte renews, so a
// server trickling bytes (or header lines) would otherwise hold the caller
// for ever. One thread per client, started with its first request; stop()
// is httplib's thread-safe way to end a request from outside (it shuts the
// socket down; the request then fails at once).
class deadline_watch {
public:
  ~deadline_watch() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }

  void arm(httplib::ClientImpl& client, steady::time_point deadline) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!thread_.joinable())
      thread_ = std::thread{[this] { run(); }};
    client_ = &client;
    deadline_ = deadline;
    fired_ = false;
    cv_.notify_all();
  }

  /// True when the deadline passed and the connection was cut.
  bool disarm() {
    std::lock_guard<std::mutex> guard{mtx_};
    client_ = nullptr;
    return fired_;
  }

private:
  void run() {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!quit_) {
      if (client_ == nullptr) {
        cv_.wait(lock);
        continue;
      }
      cv_.wait_until(lock, deadline_);
      if (client_ != nullptr && !quit_ && steady::now() >= deadline_) {
        // Under mtx_, so disarm() cannot return while the cut is under way;
        // stop() waits at most for a connect, which is bounded by the
        // connect timeout cut to the time left.
        client_->stop();
        fired_ = true;
        client_ = nullptr;
      }
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::thread thread_;
  httplib::ClientImpl* client_ = nullptr;
  steady::time_point deadline_;
  bool fired_ = false;
  bool quit_ = false;
};

// -- one exchange ---------------------------------------------------------------

struct exchange {
  httplib::Error error = httplib::Error::Success;
  bool body_too_large = false;
  bool too_slow = false;
  httplib::Response response;
  std::string body;
  /// The address connected to, when this call connected.
  std::string address;
};

bool connect_failed(httplib::Error e) {
  return e == httplib::Error::Connection
         || e == httplib::Error::ConnectionTimeout;
}

http_error error_of(const exchange& x, const http_url& url,
                    const http_client_params& p, bool past_deadline) {
  http_error out;
  out.host = url.authority();
  const auto& host = out.host;
  const auto at = x.address.empty() || x.address == url.host
                    ? std::string{}
                    : " (" + x.address + ")";
  if (x.body_too_large) {
    out.failure = http_failure::too_large;
    out.status = x.response.status;
    out.message = "response body from " + host + " larger than "
                  "response_bytes_max ("
                  + std::to_string(p.response_bytes_max) + " bytes)";
    return out;
  }
  if (x.too_slow || past_deadline) {
    out.failure = http_failure::timeout;
    out.message = "no complete response from " + host + " within "
                  + ms_text("request_timeout_ms", p.request_timeout_ms);
    return out;
  }
  switch (x.error) {
  case httplib::Error::Connection:
    out.failure = http_failure::connect;
    out.message = "cannot connect to " + host + at
                  + ": refused or unreachable";
    break;
  case httplib::Error::ConnectionTimeout:
    out.failure = http_failure::timeout;
    out.message = "no connection to " + host + at + " within "
                  + ms_text("connect_timeout_ms", p.connect_timeout_ms);
    break;
  case httplib::Error::Read:
    out.failure = http_failure::io;
    out.message = "reading the response from " + host
                  + " failed: the connection broke, or no data came within "
                  + ms_text("read_timeout_ms", p.read_timeout_ms);
    break;
  case httplib::Error::Write:
    out.failure = http_failure::io;
    out.message = "sending the request to " + host
                  + " failed: the connection broke, or it took no data "
                    "within "
                  + ms_text("write_timeout_ms", p.write_timeout_ms);
    break;
  case httplib::Error::SSLConnection:
    out.failure = http_failure::tls_handshake;
    out.message = "TLS handshake with " + host + at + " failed";
    break;
  case httplib::Error::SSLServerVerification:
    out.failure = http_failure::tls_verification;
    out.message = "the certificate of " + host
                  + " is not trusted or not issued for it";
    break;
  case httplib::Error::SSLLoadingCerts:
    out.failure = http_failure::tls_verification;
    out.message = "cannot load the trusted CA certificates"
                  + (p.ca_cert_path.empty() ? std::string{}
                                            : " from " + p.ca_cert_path)
                  + " to verify " + host;
    break;
  case httplib::Error::Compression:
    out.failure = http_failure::other;
    out.message = "cannot decompress the response from " + host;
    break;
  default:
    out.failure = http_failure::other;
    out.message = "request to " + host + " failed: "
                  + httplib::to_string(x.error);
  }
  return out;
}

} // namespace

const char* to_string(http_failure failure) {
  switch (failure) {
  case http_failure::none:
    return "none";
  case http_failure::bad_request:
    return "bad_request";
  case http_failure::destination_refused:
    return "destination_refused";
  case http_failure::name_resolution:
    return "name_resolution";
  case http_failure::connect:
    return "connect";
  case http_failure::tls_handshake:
    return "tls_handshake";
  case http_failure::tls_verification:
    return "tls_verification";
  case http_failure::timeout:
    return "timeout";
  case http_failure::io:
    return "io";
  case http_failure::too_large:
    return "too_large";
  case http_failure::redirect_refused:
    return "redirect_refused";
  case http_failure::other:
    return "other";
  }
  return "other";
}

std::string http_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (same_name(key, name))
      return value;
  return {};
}

// -- the client -----------------------------------------------------------------

struct http_client::state {
  http_client_params params;
  /// One connection per origin ("https://host:port"), kept alive.
  std::map<std::string, std::unique_ptr<httplib::ClientImpl>> clients;
  /// Declared after `clients`, so destroyed first: the watchdog never
  /// outlives a client it may stop.
  deadline_watch watch;

  explicit state(http_client_params p) : params(std::move(p)) {
    check_params(params);
  }

  httplib::ClientImpl* client_for(const http_url& url, http_error& error) {
    auto it = clients.find(url.origin());
    if (it != clients.end())
      return it->second.get();
    std::unique_ptr<httplib::ClientImpl> client;
    if (url.https()) {
      auto tls = std::make_unique<httplib::SSLClient>(url.host, url.port);
      tls->enable_server_certificate_verification(true);
      if (!params.ca_cert_path.empty())
        tls->set_ca_cert_path(params.ca_cert_path);
      client = std::move(tls);
    } else {
      client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
    }
    if (!client->is_valid()) {
      error.failure = http_failure::other;
      error.host = url.authority();
      error.message = "cannot set up an HTTP client for " + url.origin();
      return nullptr;
    }
    client->set_keep_alive(true);
    // Redirects are followed here, by the policy, never by httplib.
    client->set_follow_location(false);
    // Targets are sent as the caller encoded them.
    client->set_url_encode(false);
    return clients.emplace(url.origin(), std::move(client))
      .first->second.get();
  }

  // One request to `url`, no redirects: connects (resolving and checking
  // the destination first) unless a kept-alive connection is open.
  exchange exchange_once(httplib::ClientImpl& client, const http_url& url,
                         httplib::Request request, steady::time_point deadline,
                         http_error& refused) {
    auto left = [&](int limit_ms) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - steady::now())
                        .count();
      return std::chrono::milliseconds(
        std::clamp<std::int64_t>(ms, 1, limit_ms));
    };
    auto attempt = [&](const std::string& address) {
      exchange x;
      x.address = address;
      // The watchdog cannot cut a connect (httplib holds its lock while
      // connecting), so the connect timeout is cut to the time left; reads
      // and writes are cut by the watchdog.
      const auto connect_timeout = left(params.connect_timeout_ms);
      client.set_connection_timeout(connect_timeout);
      client.set_read_timeout(
        std::chrono::milliseconds(params.read_timeout_ms));
      client.set_write_timeout(
        std::chrono::milliseconds(params.write_timeout_ms));
      auto req = request;
      req.content_receiver = [&](const char* data, std::size_t size,
                                 std::uint64_t, std::uint64_t) {
        if (size > params.response_bytes_max - x.body.size()) {
          x.body_too_large = true;
          return false;
        }
        if (steady::now() > deadline) {
          x.too_slow = true;
          return false;
        }
        x.body.append(data, size);
        return true;
      };
      watch.arm(client, deadline);
      client.send(req, x.response, x.error);
      if (watch.disarm() && x.error != httplib::Error::Success)
        x.too_slow = true;
      if (x.error == httplib::Error::ConnectionTimeout
          && connect_timeout.count() < params.connect_timeout_ms)
        x.too_slow = true;
      return x;
    };

    if (client.is_socket_open() > 0) {
      // Kept alive: the address was checked when it was connected.
      auto x = attempt({});
      if (!connect_failed(x.error))
        return x;
    }
    const auto resolved = resolve_host(url.host, url.port);
    if (!resolved.problem.empty()) {
      refused.failure = http_failure::name_resolution;
      refused.host = url.authority();
      refused.message = "cannot resolve " + url.host + ": " + resolved.problem;
      return {};
    }
    if (auto why = destination_problem(params.destinations, url.host,
                                       resolved.addresses)) {
      refused.failure = http_failure::destination_refused;
      refused.host = url.authority();
      refused.message = "destination " + url.authority() + " refused: " + *why
                        + " (not allowed by the destination policy)";
      return {};
    }
    // Each address in the resolver's order, as httplib itself would try
    // them, but only ones checked above: the connection never depends on a
    // second resolution.
    exchange x;
    for (std::size_t i = 0; i < resolved.addresses.size(); ++i) {
      client.set_hostname_addr_map({{url.host, resolved.addresses[i]}});
      x = attempt(resolved.addresses[i]);
      if (!connect_failed(x.error) || steady::now() >= deadline)
        break;
    }
    return x;
  }

  http_result send(const http_request& request) {
    http_result out;
    auto fail = [&](http_failure failure, std::string host,
                    std::string message, int status = 0) {
      out.error.failure = failure;
      out.error.host = std::move(host);
      out.error.message = std::move(message);
      out.error.status = status;
      return out;
    };
    std::string problem;
    auto url = parse_http_url(request.url, problem);
    if (!url)
      return fail(http_failure::bad_request, {},
                  "refused to send a request to a bad URL: " + problem);
    for (const auto& [name, value] : request.headers) {
      if (auto why = header_name_problem(name))
        return fail(http_failure::bad_request, url->authority(),
                    "refused to send a header: " + *why);
      if (auto why = header_value_problem(value))
        return fail(http_failure::bad_request, url->authority(),
                    "refused to send the " + name + " header: " + *why);
    }
    const auto deadline
      = steady::now() + std::chrono::milliseconds(params.request_timeout_ms);
    auto method = request.method;
    auto headers = request.headers;
    auto body = request.body;
    for (int redirects = 0;; ++redirects) {
      auto* client = client_for(*url, out.error);
      if (client == nullptr)
        return out;
      httplib::Request req;
      req.method = method;
      req.path = url->target();
      for (const auto& [name, value] : headers)
        req.headers.emplace(name, value);
      req.body = body;
      http_error refused;
      auto x = exchange_once(*client, *url, std::move(req), deadline, refused);
      if (refused.failure != http_failure::none) {
        out.error = std::move(refused);
        return out;
      }
      if (x.error != httplib::Error::Success || x.body_too_large
          || x.too_slow) {
        out.error = error_of(x, *url, params, steady::now() >= deadline);
        return out;
      }
      const auto location = x.response.get_header_value("Location");
      if (!is_redirect(x.response.status) || location.empty()) {
        out.response.status = x.response.status;
        for (const auto& [name, value] : x.response.headers)
          out.response.headers.emplace_back(name, value);
        out.response.body = std::move(x.body);
        out.response.url = url->text();
        return out;
      }
      // A redirect: followed only as the policy says.
      const auto host = url->authority();
      const auto status = x.response.status;
      const auto answered = host + " answered " + std::to_string(status);
      if (params.redirects_max == 0)
        return fail(http_failure::redirect_refused, host,
                    answered + " (a redirect); redirects_max is 0, so "
                               "redirects are not followed",
                    status);
      if (redirects >= params.redirects_max)
        return fail(http_failure::redirect_refused, host,
                    answered + " (a redirect) after "
                      + std::to_string(redirects)
                      + " redirects; no more than redirects_max ("
                      + std::to_string(params.redirects_max)
                      + ") are followed",
                    status);
      auto next = resolve_location(*url, location, problem);
      if (!next)
        return fail(http_failure::redirect_refused, host,
                    answered + " (a redirect) to a bad URL: " + problem,
                    status);
      if (url->https() && !next->https())
        return fail(http_failure::redirect_refused, host,
                    answered + " (a redirect) to "
                      + next->text_without_query()
                      + "; a redirect from https to http is refused",
                    status);
      // Headers that speak for the caller at one origin never reach
      // another one a redirect points to.
      if (next->origin() != url->origin())
        drop_headers(headers,
                     {"Authorization", "Proxy-Authorization", "Cookie", "Host"});
      // 303 asks for a GET; so do 301 and 302 after a POST, as every
      // browser does. 307 and 308 repeat the request as it was.
      if ((status == 303 && method != "HEAD")
          || ((status == 301 || status == 302) && method == "POST")) {
        method = "GET";
        body.clear();
        drop_headers(headers, {"Content-Type"});
      }
      url = std::move(next);
    }
  }
};

http_client::http_client(http_client_params params)
  : state_(std::make_unique<state>(std::move(params))) {
  // nop
}

http_client::~http_client() = default;
http_client::http_client(http_client&&) noexcept = default;
http_client& http_client::operator=(http_client&&) noexcept = default;

http_result http_client::send(const http_request& request) {
  return state_->send(request);
}

const http_client_params& http_client::params() const {
  return state_->params;
}

} // namespace catchup
