// SPDX-License-Identifier: Apache-2.0
// The node's HTTP endpoint on a free local port, through cpp-httplib's
// client: each route's status, type and body, readiness changing between
// requests, throwing callbacks, wrong paths and methods, a port already in
// use, stopping, many clients at once, and the registry's Prometheus text
// checked by promtool.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include "adapters/http_endpoint.hpp"
#include "core/metrics.hpp"
#include "tests/support/temp_dir.hpp"

using namespace catchup;

namespace {

const std::string metrics_type = "text/plain; version=0.0.4; charset=utf-8";
const std::string text_type = "text/plain; charset=utf-8";
const std::string json_type = "application/json";

const std::string sample_metrics = "# HELP catchup_up 1 while serving\n"
                                   "# TYPE catchup_up gauge\n"
                                   "catchup_up 1\n";
const std::string sample_status
  = R"({"node":"test","memory":{"level":"normal","used_percent":12.5}})";

// Bounds every client call, so a broken endpoint fails a test instead of
// hanging it.
constexpr std::chrono::seconds client_timeout{10};

http_endpoint_options local_options() {
  http_endpoint_options options;
  options.port = 0;
  return options;
}

http_endpoint_callbacks fixed_callbacks() {
  http_endpoint_callbacks callbacks;
  callbacks.metrics_text = [] { return sample_metrics; };
  callbacks.ready = [] { return readiness{true, ""}; };
  callbacks.status_json = [] { return sample_status; };
  return callbacks;
}

httplib::Client client_of(const http_endpoint& endpoint) {
  httplib::Client client{"127.0.0.1", endpoint.port()};
  client.set_connection_timeout(client_timeout);
  client.set_read_timeout(client_timeout);
  client.set_write_timeout(client_timeout);
  return client;
}

// A request that must get an answer; its failure names the path.
httplib::Response get(httplib::Client& client, const std::string& path) {
  auto res = client.Get(path.c_str());
  BOOST_REQUIRE_MESSAGE(res, "GET " << path << " got no response: "
                                    << httplib::to_string(res.error()));
  return res.value();
}

struct command_result {
  int exit_code = -1;
  std::string output;
};

// Runs `command` through /bin/sh, collecting stdout (and stderr, if the
// command redirects it).
command_result run(const std::string& command) {
  command_result result;
  FILE* pipe = ::popen(command.c_str(), "r");
  BOOST_REQUIRE_MESSAGE(pipe != nullptr, "cannot run " << command);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0)
    result.output.append(buf, n);
  int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  return result;
}

void require_promtool() {
  BOOST_REQUIRE_MESSAGE(
    std::system("command -v promtool >/dev/null 2>&1") == 0,
    "promtool is not installed: this test checks the metrics format with it "
    "and does not skip. Install Debian's `prometheus` package "
    "(`apt-get install --no-install-recommends prometheus`, or ./dev.sh), "
    "which ships /usr/bin/promtool.");
}

// `promtool check metrics` over `exposition`, through a file on stdin.
command_result promtool_check(const std::string& exposition) {
  test::temp_dir dir;
  auto path = dir / "metrics.prom";
  {
    std::ofstream out{path, std::ios::binary};
    out << exposition;
    BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << path);
  }
  return run("promtool check metrics < '" + path + "' 2>&1");
}

std::vector<std::string> lines_with_error(const std::string& output) {
  std::vector<std::string> found;
  std::istringstream in{output};
  for (std::string line; std::getline(in, line);) {
    auto lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower.find("error") != std::string::npos)
      found.push_back(line);
  }
  return found;
}


// A plain TCP connection to the endpoint, for clients that misbehave.
int connect_to(const http_endpoint& endpoint) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(endpoint.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE_MESSAGE(
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0,
    "connect: " << std::system_category().message(errno));
  return fd;
}

void send_all(int fd, const std::string& text) {
  std::size_t sent = 0;
  while (sent < text.size()) {
    auto n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    sent += static_cast<std::size_t>(n);
  }
}

// What the endpoint writes until it closes the connection (or `limit`
// passes: then the text so far; a reset ends it too).
std::string read_until_closed(int fd, std::chrono::milliseconds limit) {
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return text;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[1024];
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      return text;
    text.append(buf, static_cast<std::size_t>(n));
  }
}

// The attack of an unlucky orchestrator's node: `idle` connections that say
// nothing and `drip` connections that send a request a byte at a time,
// each a byte every `drip_every` (round robin), until destroyed.
class slow_clients {
public:
  slow_clients(const http_endpoint& endpoint, int idle, int drip,
               std::chrono::milliseconds drip_every) {
    for (int i = 0; i < idle; ++i)
      idle_.push_back(connect_to(endpoint));
    for (int i = 0; i < drip; ++i)
      drip_.push_back(connect_to(endpoint));
    dripper_ = std::thread{[this, drip_every] {
      const std::string request = "GET /livez HTTP/1.1\r\nHost: x\r\nX-Pad: "
                                  + std::string(4000, 'p') + "\r\n\r\n";
      std::size_t at = 0;
      std::unique_lock<std::mutex> lock{mutex_};
      while (!done_) {
        for (int fd : drip_)
          ::send(fd, request.data() + at % request.size(), 1,
                 MSG_NOSIGNAL | MSG_DONTWAIT);
        ++at;
        changed_.wait_for(lock, drip_every, [this] { return done_; });
      }
    }};
  }

  ~slow_clients() {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      done_ = true;
    }
    changed_.notify_all();
    dripper_.join();
    for (int fd : idle_)
      ::close(fd);
    for (int fd : drip_)
      ::close(fd);
  }

private:
  std::vector<int> idle_;
  std::vector<int> drip_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  std::thread dripper_;
};
} // namespace

BOOST_AUTO_TEST_SUITE(adapters_http_endpoint)

BOOST_AUTO_TEST_CASE(metrics_serves_the_callbacks_text_as_prometheus_text) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  BOOST_TEST(endpoint.port() > 0);
  auto client = client_of(endpoint);
  auto res = get(client, "/metrics");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.get_header_value("Content-Type") == metrics_type);
  BOOST_TEST(res.body == sample_metrics);
}

BOOST_AUTO_TEST_CASE(head_answers_the_headers_of_get_without_the_body) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  auto client = client_of(endpoint);
  auto res = client.Head("/metrics");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200);
  BOOST_TEST(res->get_header_value("Content-Type") == metrics_type);
  BOOST_TEST(res->body.empty());
}

BOOST_AUTO_TEST_CASE(livez_answers_ok) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  auto client = client_of(endpoint);
  auto res = get(client, "/livez");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.get_header_value("Content-Type") == text_type);
  BOOST_TEST(res.body == "ok\n");
}

BOOST_AUTO_TEST_CASE(livez_answers_while_not_ready) {
  auto callbacks = fixed_callbacks();
  callbacks.ready = [] { return readiness{false, "database unreachable"}; };
  http_endpoint endpoint{local_options(), callbacks};
  auto client = client_of(endpoint);
  BOOST_TEST(get(client, "/livez").status == 200);
}

BOOST_AUTO_TEST_CASE(readyz_follows_the_callbacks_answer) {
  std::mutex mtx;
  readiness current{false, "database unreachable: connection refused"};
  auto callbacks = fixed_callbacks();
  callbacks.ready = [&] {
    std::lock_guard<std::mutex> guard{mtx};
    return current;
  };
  http_endpoint endpoint{local_options(), callbacks};
  auto client = client_of(endpoint);

  auto res = get(client, "/readyz");
  BOOST_TEST(res.status == 503);
  BOOST_TEST(res.get_header_value("Content-Type") == text_type);
  BOOST_TEST(res.body == "database unreachable: connection refused\n");

  {
    std::lock_guard<std::mutex> guard{mtx};
    current = readiness{true, ""};
  }
  res = get(client, "/readyz");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.get_header_value("Content-Type") == text_type);
  BOOST_TEST(res.body == "ready\n");

  {
    std::lock_guard<std::mutex> guard{mtx};
    // A reason over several lines still answers as one.
    current = readiness{false, "memory circuit breaker open\n(critical: "
                               "41.2 MiB allocated, budget 48.0 MiB)"};
  }
  res = get(client, "/readyz");
  BOOST_TEST(res.status == 503);
  BOOST_TEST(res.body
             == "memory circuit breaker open (critical: 41.2 MiB allocated, "
                "budget 48.0 MiB)\n");

  {
    std::lock_guard<std::mutex> guard{mtx};
    current = readiness{false, ""};
  }
  res = get(client, "/readyz");
  BOOST_TEST(res.status == 503);
  BOOST_TEST(res.body == "not ready\n");
}

BOOST_AUTO_TEST_CASE(status_serves_the_callbacks_json) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  auto client = client_of(endpoint);
  auto res = get(client, "/status");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.get_header_value("Content-Type") == json_type);
  BOOST_TEST(res.body == sample_status);
}

BOOST_AUTO_TEST_CASE(status_that_is_not_a_json_object_is_a_500) {
  std::mutex mtx;
  std::string answer = "[1, 2]";
  auto callbacks = fixed_callbacks();
  callbacks.status_json = [&] {
    std::lock_guard<std::mutex> guard{mtx};
    return answer;
  };
  http_endpoint endpoint{local_options(), callbacks};
  auto client = client_of(endpoint);
  for (const char* bad : {"[1, 2]", "{\"truncated\": ", "", "null"}) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      answer = bad;
    }
    auto res = get(client, "/status");
    BOOST_TEST(res.status == 500, "status answer " << bad);
    BOOST_TEST(res.get_header_value("Content-Type") == text_type);
    BOOST_TEST(res.body == "error: /status: the status is not a JSON object\n");
  }
}

BOOST_AUTO_TEST_CASE(a_throwing_callback_is_a_500_and_serving_goes_on) {
  std::atomic<bool> failing{true};
  auto callbacks = fixed_callbacks();
  callbacks.metrics_text = [&]() -> std::string {
    if (failing)
      throw std::runtime_error("registry\nbroken");
    return sample_metrics;
  };
  callbacks.ready = []() -> readiness { throw 42; };
  callbacks.status_json = []() -> std::string {
    throw std::runtime_error(std::string(1000, 'x'));
  };
  http_endpoint endpoint{local_options(), callbacks};
  auto client = client_of(endpoint);

  auto res = get(client, "/metrics");
  BOOST_TEST(res.status == 500);
  BOOST_TEST(res.get_header_value("Content-Type") == text_type);
  BOOST_TEST(res.body == "error: /metrics: registry broken\n");

  res = get(client, "/readyz");
  BOOST_TEST(res.status == 500);
  BOOST_TEST(res.body == "error: /readyz: unknown exception\n");

  // A long message is cut to one short line.
  res = get(client, "/status");
  BOOST_TEST(res.status == 500);
  BOOST_TEST(res.body.size() < 300u);
  BOOST_TEST(std::count(res.body.begin(), res.body.end(), '\n') == 1);

  BOOST_TEST(get(client, "/livez").status == 200);
  failing = false;
  res = get(client, "/metrics");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.body == sample_metrics);
}

BOOST_AUTO_TEST_CASE(unknown_paths_are_404) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  auto client = client_of(endpoint);
  for (const char* path : {"/", "/nope", "/metrics/", "/metrics/extra",
                           "/METRICS", "/statusx"}) {
    auto res = get(client, path);
    BOOST_TEST(res.status == 404, "GET " << path);
    BOOST_TEST(res.body == "not found\n");
  }
  auto res = client.Post("/nope", "", "text/plain");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 404);
}

BOOST_AUTO_TEST_CASE(other_methods_on_the_routes_are_405) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  auto client = client_of(endpoint);

  auto res = client.Post("/metrics", "", "text/plain");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 405);
  BOOST_TEST(res->get_header_value("Allow") == "GET, HEAD");
  BOOST_TEST(res->get_header_value("Content-Type") == text_type);
  BOOST_TEST(res->body == "method not allowed\n");

  // With a body, which is answered without being read.
  res = client.Post("/readyz", std::string(100, 'x'), "text/plain");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 405);

  res = client.Put("/status", "{}", "application/json");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 405);

  res = client.Delete("/livez");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 405);

  res = client.Options("/metrics");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 405);

  // A method httplib itself does not route.
  httplib::Request trace;
  trace.method = "TRACE";
  trace.path = "/metrics";
  res = client.send(trace);
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 405);

  BOOST_TEST(get(client, "/metrics").status == 200);
}

BOOST_AUTO_TEST_CASE(a_port_in_use_is_a_clear_error) {
  http_endpoint first{local_options(), fixed_callbacks()};
  auto options = local_options();
  options.port = first.port();
  std::string message;
  try {
    http_endpoint second{options, fixed_callbacks()};
    BOOST_ERROR("a second endpoint bound port " << options.port);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  BOOST_TEST_MESSAGE("bind error: " << message);
  auto where = "127.0.0.1:" + std::to_string(first.port());
  BOOST_TEST(message.find(where) != std::string::npos, message);
  BOOST_TEST(message.find(std::system_category().message(EADDRINUSE))
               != std::string::npos,
             message);
  // The first keeps serving.
  auto client = client_of(first);
  BOOST_TEST(get(client, "/livez").status == 200);
}

BOOST_AUTO_TEST_CASE(options_out_of_range_are_refused) {
  auto bad = [](auto change) {
    auto options = local_options();
    auto callbacks = fixed_callbacks();
    change(options, callbacks);
    BOOST_CHECK_THROW((http_endpoint{options, callbacks}),
                      std::invalid_argument);
  };
  bad([](auto& o, auto&) { o.port = -1; });
  bad([](auto& o, auto&) { o.port = 65536; });
  bad([](auto& o, auto&) { o.bind_address.clear(); });
  bad([](auto& o, auto&) { o.request_timeout_ms = 0; });
  bad([](auto& o, auto&) { o.write_timeout_ms = -5; });
  bad([](auto& o, auto&) { o.threads_max = 0; });
  bad([](auto& o, auto&) { o.threads_max = 1000; });
  bad([](auto& o, auto&) { o.connections_max = 0; });
  bad([](auto& o, auto&) { o.connections_max = 5000; });
  bad([](auto&, auto& c) { c.metrics_text = nullptr; });
  bad([](auto&, auto& c) { c.ready = nullptr; });
  bad([](auto&, auto& c) { c.status_json = nullptr; });
}

BOOST_AUTO_TEST_CASE(stop_closes_the_port_and_may_be_called_again) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  auto client = client_of(endpoint);
  BOOST_TEST(get(client, "/livez").status == 200);
  endpoint.stop();
  auto res = client.Get("/livez");
  BOOST_TEST(!res);
  BOOST_TEST((res.error() == httplib::Error::Connection));
  endpoint.stop();
}

BOOST_AUTO_TEST_CASE(many_clients_at_once_are_all_served_by_few_threads) {
  constexpr std::size_t threads_max = 2;
  constexpr int clients = 8;
  constexpr int requests_per_client = 25;
  std::atomic<int> in_callback{0};
  std::atomic<int> in_callback_max{0};
  auto callbacks = fixed_callbacks();
  callbacks.metrics_text = [&] {
    int now = ++in_callback;
    int seen = in_callback_max.load();
    while (now > seen && !in_callback_max.compare_exchange_weak(seen, now)) {
    }
    --in_callback;
    return sample_metrics;
  };
  auto options = local_options();
  options.threads_max = threads_max;
  http_endpoint endpoint{options, callbacks};

  std::atomic<int> served{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      auto client = client_of(endpoint);
      for (int r = 0; r < requests_per_client; ++r) {
        auto res = client.Get("/metrics");
        if (res && res->status == 200 && res->body == sample_metrics)
          ++served;
      }
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(served.load() == clients * requests_per_client);
  BOOST_TEST(in_callback_max.load() <= static_cast<int>(threads_max));
}

BOOST_AUTO_TEST_CASE(probes_answer_within_a_second_behind_idle_and_slow_clients) {
  auto callbacks = fixed_callbacks();
  http_endpoint endpoint{local_options(), callbacks};
  // 200 connections that say nothing and 200 that send a byte every 3 s:
  // each would hold a worker for as long as it likes if workers read
  // requests.
  slow_clients attack{endpoint, 200, 200, std::chrono::milliseconds(3000)};
  httplib::Client client{"127.0.0.1", endpoint.port()};
  client.set_connection_timeout(std::chrono::seconds(1));
  client.set_read_timeout(std::chrono::seconds(1));
  client.set_write_timeout(std::chrono::seconds(1));
  for (int i = 0; i < 12; ++i)
    for (const char* path : {"/livez", "/readyz"}) {
      auto started = std::chrono::steady_clock::now();
      auto res = client.Get(path);
      auto took = std::chrono::steady_clock::now() - started;
      BOOST_REQUIRE_MESSAGE(res, "probe " << i << " " << path
                                          << " got no answer: "
                                          << httplib::to_string(res.error()));
      BOOST_TEST(res->status == 200);
      BOOST_TEST((took < std::chrono::seconds(1)),
                 path << " took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(
                           took)
                           .count()
                      << " ms");
    }
}

BOOST_AUTO_TEST_CASE(a_request_must_be_whole_within_its_total_deadline) {
  auto options = local_options();
  options.request_timeout_ms = 500;
  http_endpoint endpoint{options, fixed_callbacks()};
  // Quiet: 408 once the deadline passed.
  int quiet = connect_to(endpoint);
  auto answer = read_until_closed(quiet, std::chrono::seconds(10));
  ::close(quiet);
  BOOST_TEST(answer.rfind("HTTP/1.1 408", 0) == 0, answer);
  // A byte every 50 ms does not renew it: closed within the deadline (and
  // some slack), long before the header could end.
  int watched = connect_to(endpoint);
  auto started = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::thread dripping{[&] {
    for (int i = 0; i < 200 && !done; ++i) {
      if (::send(watched, "G", 1, MSG_NOSIGNAL) != 1)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }};
  read_until_closed(watched, std::chrono::seconds(10));
  auto took = std::chrono::steady_clock::now() - started;
  done = true;
  dripping.join();
  ::close(watched);
  BOOST_TEST((took < std::chrono::seconds(3)),
             "closed after "
               << std::chrono::duration_cast<std::chrono::milliseconds>(took)
                    .count()
               << " ms");
  // Still serving.
  auto client = client_of(endpoint);
  BOOST_TEST(get(client, "/livez").status == 200);
}

BOOST_AUTO_TEST_CASE(past_the_connection_limit_a_new_connection_gets_503) {
  auto options = local_options();
  options.connections_max = 4;
  http_endpoint endpoint{options, fixed_callbacks()};
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i)
    idle.push_back(connect_to(endpoint));
  auto client = client_of(endpoint);
  auto res = client.Get("/livez");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 503);
  BOOST_TEST(res->body == "too many connections\n");
  BOOST_TEST(res->get_header_value("Retry-After") == "1");
  for (int fd : idle)
    ::close(fd);
  // Room again once the endpoint has seen them close.
  int status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    auto again = client.Get("/livez");
    BOOST_REQUIRE(again);
    status = again->status;
  }
  BOOST_TEST(status == 200);
}

BOOST_AUTO_TEST_CASE(a_header_past_its_limit_gets_431) {
  http_endpoint endpoint{local_options(), fixed_callbacks()};
  int fd = connect_to(endpoint);
  send_all(fd, "GET /livez HTTP/1.1\r\nX-Pad: " + std::string(9000, 'p'));
  auto answer = read_until_closed(fd, std::chrono::seconds(10));
  ::close(fd);
  BOOST_TEST(answer.rfind("HTTP/1.1 431", 0) == 0, answer);
}

BOOST_AUTO_TEST_CASE(promtool_rejects_a_bad_exposition) {
  // The check below is only worth something if promtool fails bad input.
  require_promtool();
  auto result = promtool_check("catchup_no_help_total 1\n");
  BOOST_TEST(result.exit_code != 0, result.output);
  result = promtool_check("# TYPE catchup_x_total counter\ncatchup_x_total{ 1\n");
  BOOST_TEST(result.exit_code != 0, result.output);
  BOOST_TEST(!lines_with_error(result.output).empty(), result.output);
}

BOOST_AUTO_TEST_CASE(registry_metrics_served_pass_promtool_check) {
  require_promtool();
  metrics_registry registry;
  auto& requests = registry.counter_named("catchup_test_requests_total",
                                          "requests served");
  requests.add(3);
  registry.counter_named("catchup_test_failures_total",
                         "a counter never incremented");
  registry
    .gauge_named("catchup_test_heap_used_bytes",
                 "help with a \\ backslash and a\nline break")
    .set(1.5e6);
  registry.gauge_named("catchup_test_queue_change", "a negative gauge")
    .set(-2.25);
  auto& durations = registry.histogram_named(
    "catchup_test_request_duration_seconds", "wall time of one request",
    {0.005, 0.05, 0.5, 5});
  durations.observe(0.001);
  durations.observe(0.05);
  durations.observe(7);
  auto& sizes = registry.histogram_named("catchup_test_batch_size_bytes",
                                         "bytes of one batch",
                                         default_size_buckets_bytes());
  sizes.observe(0);
  sizes.observe(20000);
  sizes.observe(5e9);

  auto callbacks = fixed_callbacks();
  callbacks.metrics_text = [&registry] { return registry.render_prometheus(); };
  http_endpoint endpoint{local_options(), callbacks};
  auto client = client_of(endpoint);
  auto res = get(client, "/metrics");
  BOOST_REQUIRE(res.status == 200);
  BOOST_TEST(res.get_header_value("Content-Type") == metrics_type);
  BOOST_TEST(res.body == registry.render_prometheus());
  BOOST_TEST(res.body.find("# TYPE catchup_test_request_duration_seconds "
                           "histogram\n")
             != std::string::npos);
  BOOST_TEST(res.body.find("catchup_test_request_duration_seconds_bucket{le="
                           "\"+Inf\"} 3\n")
             != std::string::npos);

  auto result = promtool_check(res.body);
  BOOST_TEST_MESSAGE("promtool check metrics: exit " << result.exit_code
                                                      << ", output:\n"
                                                      << result.output);
  BOOST_TEST(result.exit_code == 0,
             "promtool check metrics exited " << result.exit_code << ":\n"
                                              << result.output
                                              << "\non:\n"
                                              << res.body);
  for (const auto& line : lines_with_error(result.output))
    BOOST_ERROR("promtool: " << line);
}

BOOST_AUTO_TEST_SUITE_END()
