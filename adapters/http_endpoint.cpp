// SPDX-License-Identifier: Apache-2.0
#include "adapters/http_endpoint.hpp"

#include <exception>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "adapters/http_connection_gate.hpp"
#include "core/utf8.hpp"

namespace catchup {

namespace {

// The Prometheus text exposition format the registry renders.
const char* const metrics_content_type
  = "text/plain; version=0.0.4; charset=utf-8";
const char* const text_content_type = "text/plain; charset=utf-8";
const char* const json_content_type = "application/json";
// Every route answers GET, and HEAD through it.
const char* const allowed_methods = "GET, HEAD";

// Upper bound of options.threads_max: far beyond what scrapes and probes
// need; a larger value is a typo, not a plan.
constexpr std::size_t threads_max_limit = 64;
// Upper bound of options.connections_max: httplib 0.11 answers a request on
// a descriptor at or past FD_SETSIZE (1024) with 500, so more connections
// than fit below it, beside the process's own descriptors, buy nothing.
constexpr std::size_t connections_max_limit = 800;
// What a 500 quotes of an exception's message: one line for an operator,
// never a page.
constexpr std::size_t error_excerpt_bytes_max = 200;
constexpr int port_max = 65535;

// `text` on one line for a response or a log: line breaks and tabs become
// spaces, other controls and invalid UTF-8 '?', at most
// `error_excerpt_bytes_max` bytes of whole characters.
std::string one_line(std::string_view text) {
  std::string spaced{text.substr(0, error_excerpt_bytes_max)};
  for (char& c : spaced)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  return printable_excerpt(spaced, error_excerpt_bytes_max);
}

// httplib's request handling (parsing, routing, writing the answer) on a
// stream the connection gate hands over with the whole request header.
class routing_server final : public httplib::Server {
public:
  void serve(httplib::Stream& stream) {
    bool connection_closed = false;
    // One request per connection, then "Connection: close": a scrape every
    // few seconds gains nothing from keep-alive.
    process_request(stream, true, connection_closed, nullptr);
  }
};

void check(const http_endpoint_options& o, const http_endpoint_callbacks& c) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("http endpoint: " + what);
  };
  if (o.bind_address.empty())
    fail("bind_address is empty");
  if (o.port < 0 || o.port > port_max)
    fail("port " + std::to_string(o.port) + " is not in 0..65535");
  if (o.request_timeout_ms <= 0)
    fail("request_timeout_ms must be positive");
  if (o.write_timeout_ms <= 0)
    fail("write_timeout_ms must be positive");
  if (o.threads_max < 1 || o.threads_max > threads_max_limit)
    fail("threads_max " + std::to_string(o.threads_max) + " is not in 1.."
         + std::to_string(threads_max_limit));
  if (o.connections_max < 1 || o.connections_max > connections_max_limit)
    fail("connections_max " + std::to_string(o.connections_max)
         + " is not in 1.." + std::to_string(connections_max_limit));
  if (!c.metrics_text)
    fail("no metrics_text callback");
  if (!c.ready)
    fail("no ready callback");
  if (!c.status_json)
    fail("no status_json callback");
}

} // namespace

struct http_endpoint::state {
  http_endpoint_options options;
  http_endpoint_callbacks callbacks;
  routing_server server;
  // Last member: destroyed (stopped and joined) first.
  std::unique_ptr<connection_gate> gate;

  state(http_endpoint_options o, http_endpoint_callbacks c)
    : options(std::move(o)), callbacks(std::move(c)) {
    // nop
  }

  void serve(const httplib::Request& req, httplib::Response& res) const;
  void answer(const std::string& path, httplib::Response& res) const;
};

// Routes by path, then by method, so a known path with a wrong method is a
// 405 and an unknown path a 404 whatever the method.
void http_endpoint::state::serve(const httplib::Request& req,
                                 httplib::Response& res) const {
  const auto& path = req.path;
  if (path != "/metrics" && path != "/livez" && path != "/readyz"
      && path != "/status") {
    res.status = 404;
    res.set_content("not found\n", text_content_type);
    return;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    res.status = 405;
    res.set_header("Allow", allowed_methods);
    res.set_content("method not allowed\n", text_content_type);
    return;
  }
  try {
    answer(path, res);
  } catch (const std::exception& e) {
    auto what = one_line(e.what());
    spdlog::warn("http endpoint: GET {} failed: {}", path, what);
    res.status = 500;
    res.set_content("error: " + path + ": " + what + "\n", text_content_type);
  } catch (...) {
    spdlog::warn("http endpoint: GET {} failed: unknown exception", path);
    res.status = 500;
    res.set_content("error: " + path + ": unknown exception\n",
                    text_content_type);
  }
}

void http_endpoint::state::answer(const std::string& path,
                                  httplib::Response& res) const {
  if (path == "/metrics") {
    res.status = 200;
    res.set_content(callbacks.metrics_text(), metrics_content_type);
  } else if (path == "/livez") {
    // Answering at all is the point: the process and its endpoint live.
    res.status = 200;
    res.set_content("ok\n", text_content_type);
  } else if (path == "/readyz") {
    auto r = callbacks.ready();
    if (r.ready) {
      res.status = 200;
      res.set_content("ready\n", text_content_type);
    } else {
      res.status = 503;
      res.set_content((r.reason.empty() ? std::string("not ready")
                                        : one_line(r.reason))
                        + "\n",
                      text_content_type);
    }
  } else {
    auto text = callbacks.status_json();
    // Checked, so a client never gets something else under this type.
    auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
      throw std::runtime_error("the status is not a JSON object");
    res.status = 200;
    res.set_content(std::move(text), json_content_type);
  }
}

http_endpoint::http_endpoint(http_endpoint_options options,
                             http_endpoint_callbacks callbacks) {
  check(options, callbacks);
  state_ = std::make_unique<state>(std::move(options), std::move(callbacks));
  auto* st = state_.get();
  const auto& opts = st->options;
  auto& server = st->server;

  server.set_payload_max_length(opts.request_bytes_max);
  server.Get(".*", [st](const httplib::Request& req, httplib::Response& res) {
    st->serve(req, res);
  });
  // Every other method is answered here, before httplib reads a body: no
  // route takes one, and httplib 0.11 would read a chunked body, or one
  // without a length, into memory without bound.
  server.set_pre_routing_handler(
    [st](const httplib::Request& req, httplib::Response& res) {
      if (req.method == "GET" || req.method == "HEAD")
        return httplib::Server::HandlerResponse::Unhandled;
      st->serve(req, res);
      return httplib::Server::HandlerResponse::Handled;
    });
  // serve() catches what callbacks throw; this is for httplib's own.
  server.set_exception_handler(
    [](const httplib::Request& req, httplib::Response& res,
       std::exception_ptr) {
      spdlog::warn("http endpoint: {} {} failed inside the HTTP library",
                   req.method, req.path);
      res.status = 500;
      res.set_content("error: internal error\n", text_content_type);
    });

  connection_gate_limits limits;
  limits.connections_max = opts.connections_max;
  limits.request_header_bytes_max = opts.request_bytes_max;
  limits.request_timeout_ms = opts.request_timeout_ms;
  limits.write_timeout_ms = opts.write_timeout_ms;
  limits.threads_max = opts.threads_max;
  // Listening when this returns: a request made right away is served.
  st->gate = std::make_unique<connection_gate>(
    opts.bind_address, opts.port, limits,
    [st](httplib::Stream& stream) { st->server.serve(stream); });
}

http_endpoint::~http_endpoint() {
  stop();
}

int http_endpoint::port() const {
  return state_->gate->port();
}

void http_endpoint::stop() {
  state_->gate->stop();
}

} // namespace catchup
