// SPDX-License-Identifier: Apache-2.0
#include "actors/http_endpoint.hpp"

#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

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
// One request per connection, then "Connection: close". A scrape every few
// seconds gains nothing from keep-alive, and an idle kept-alive connection
// would hold one of the few workers until its timeout.
constexpr std::size_t requests_per_connection = 1;
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

// "127.0.0.1:9464", "[::1]:9464".
std::string address_and_port(const std::string& address, int port) {
  if (address.find(':') != std::string::npos)
    return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

// Why binding failed, from the errno the failed bind left (`saved_errno`)
// or, when the address does not resolve, from the resolver.
std::string bind_failure_reason(const std::string& address, int saved_errno) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(address.c_str(), nullptr, &hints, &found);
      rc != 0)
    return std::string("cannot resolve the address: ") + ::gai_strerror(rc);
  ::freeaddrinfo(found);
  if (saved_errno == 0)
    return "cannot bind or listen (no reason given)";
  return std::system_category().message(saved_errno);
}

// httplib's own ThreadPool has a fixed number of threads but an unbounded
// list of accepted connections waiting for one. This one has both bounds:
// when `pending_max` connections wait, `enqueue` (called on the accept
// thread) waits for room, so further connections stay in the kernel's
// listen backlog instead of piling up here as open descriptors.
class bounded_task_queue final : public httplib::TaskQueue {
public:
  bounded_task_queue(std::size_t threads, std::size_t pending_max)
    : pending_max_(pending_max) {
    threads_.reserve(threads);
    try {
      for (std::size_t i = 0; i < threads; ++i)
        threads_.emplace_back([this] { work(); });
    } catch (...) {
      shutdown();
      throw;
    }
  }

  ~bounded_task_queue() override {
    shutdown();
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock{mutex_};
    // Bounded: the workers take a job within the request timeouts, and
    // after the listening socket closed they close queued connections
    // unserved.
    room_.wait(lock, [this] { return jobs_.size() < pending_max_; });
    jobs_.push_back(std::move(fn));
    lock.unlock();
    job_ready_.notify_one();
  }

  // Runs what is queued (httplib's jobs close their connection, unserved
  // once the server stopped), then joins. Idempotent.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      shutting_down_ = true;
    }
    job_ready_.notify_all();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
  }

private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock{mutex_};
        job_ready_.wait(lock,
                        [this] { return !jobs_.empty() || shutting_down_; });
        if (jobs_.empty())
          return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      room_.notify_one();
      job();
    }
  }

  const std::size_t pending_max_;
  std::mutex mutex_;
  std::condition_variable job_ready_;
  std::condition_variable room_;
  std::deque<std::function<void()>> jobs_;
  bool shutting_down_ = false;
  std::vector<std::thread> threads_;
};

void check(const http_endpoint_options& o, const http_endpoint_callbacks& c) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("http endpoint: " + what);
  };
  if (o.bind_address.empty())
    fail("bind_address is empty");
  if (o.port < 0 || o.port > port_max)
    fail("port " + std::to_string(o.port) + " is not in 0..65535");
  if (o.read_timeout_ms <= 0)
    fail("read_timeout_ms must be positive");
  if (o.write_timeout_ms <= 0)
    fail("write_timeout_ms must be positive");
  if (o.threads_max < 1 || o.threads_max > threads_max_limit)
    fail("threads_max " + std::to_string(o.threads_max) + " is not in 1.."
         + std::to_string(threads_max_limit));
  if (o.pending_connections_max < 1)
    fail("pending_connections_max must be at least 1");
  if (!c.metrics_text)
    fail("no metrics_text callback");
  if (!c.ready)
    fail("no ready callback");
  if (!c.status_json)
    fail("no status_json callback");
}

// httplib takes timeouts as seconds and microseconds.
template <class Setter>
void set_timeout_ms(int ms, Setter&& set) {
  set(static_cast<time_t>(ms / 1000), static_cast<time_t>(ms % 1000) * 1000);
}

} // namespace

struct http_endpoint::state {
  http_endpoint_options options;
  http_endpoint_callbacks callbacks;
  httplib::Server server;
  int port = 0;
  std::thread listener;

  // The start-up handshake with the listener thread.
  std::mutex start_mutex;
  std::condition_variable start_changed;
  // The accept loop runs: httplib's is_running() is true, so stop() works.
  bool accepting = false;
  // listen_after_bind returned or threw.
  bool listener_ended = false;
  std::string listener_error;

  // Serialises stop().
  std::mutex stop_mutex;

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

  set_timeout_ms(opts.read_timeout_ms, [&](time_t s, time_t us) {
    server.set_read_timeout(s, us);
  });
  set_timeout_ms(opts.write_timeout_ms, [&](time_t s, time_t us) {
    server.set_write_timeout(s, us);
  });
  // httplib waits for the first request on a connection as for the next
  // kept-alive one, in whole seconds: the read timeout rounded up, so a
  // client that connects and says nothing holds a worker no longer.
  server.set_keep_alive_timeout(
    static_cast<time_t>((opts.read_timeout_ms + 999) / 1000));
  server.set_keep_alive_max_count(requests_per_connection);
  server.set_payload_max_length(opts.request_bytes_max);
  // Headers and body go out in two writes; without this, Nagle and the
  // client's delayed ACK add 40 ms to a response.
  server.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT, with which a second process binds
  // the same port without error and the kernel splits connections between
  // the two. SO_REUSEADDR alone still allows a restart while old
  // connections sit in TIME_WAIT, but a live listener makes bind fail.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

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

  const auto pending_max = opts.pending_connections_max;
  const auto threads = opts.threads_max;
  // Called by the listener thread once httplib's is_running() is true and
  // before the accept loop starts: from here on, stop() ends the loop.
  server.new_task_queue = [st, threads, pending_max]() -> httplib::TaskQueue* {
    auto* queue = new bounded_task_queue(threads, pending_max);
    {
      std::lock_guard<std::mutex> guard{st->start_mutex};
      st->accepting = true;
    }
    st->start_changed.notify_all();
    return queue;
  };

  // Bound and listening before the listener thread starts: a request made
  // right after construction waits in the backlog, it is never refused.
  errno = 0;
  int bound_port = -1;
  if (opts.port == 0)
    bound_port = server.bind_to_any_port(opts.bind_address);
  else if (server.bind_to_port(opts.bind_address, opts.port))
    bound_port = opts.port;
  if (bound_port <= 0) {
    int saved_errno = errno;
    throw std::runtime_error(
      "http endpoint: cannot listen on "
      + address_and_port(opts.bind_address, opts.port) + ": "
      + bind_failure_reason(opts.bind_address, saved_errno));
  }
  st->port = bound_port;

  st->listener = std::thread{[st] {
    std::string error;
    try {
      if (!st->server.listen_after_bind())
        error = "the accept loop failed";
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    {
      std::lock_guard<std::mutex> guard{st->start_mutex};
      st->listener_ended = true;
      st->listener_error = error;
    }
    st->start_changed.notify_all();
  }};

  // No deadline: between its start and either flag the listener does no
  // I/O and waits for nothing, so this waits only for a thread to start.
  std::unique_lock<std::mutex> lock{st->start_mutex};
  st->start_changed.wait(lock,
                         [st] { return st->accepting || st->listener_ended; });
  if (st->accepting)
    return;
  auto error = st->listener_error;
  lock.unlock();
  st->listener.join();
  // A queue that failed to start leaves httplib "running" with its socket
  // open; stop() closes it.
  if (server.is_running())
    server.stop();
  throw std::runtime_error("http endpoint: cannot serve on "
                           + address_and_port(opts.bind_address, bound_port)
                           + ": " + error);
}

http_endpoint::~http_endpoint() {
  stop();
}

int http_endpoint::port() const {
  return state_->port;
}

void http_endpoint::stop() {
  std::lock_guard<std::mutex> guard{state_->stop_mutex};
  if (!state_->listener.joinable())
    return;
  // Closes the listening socket: the accept loop ends, the workers finish
  // the requests in progress and close queued connections unserved.
  state_->server.stop();
  state_->listener.join();
}

} // namespace catchup
