// SPDX-License-Identifier: Apache-2.0
// The outbound HTTP client against real local cpp-httplib servers (plain
// and TLS, on 127.0.0.1): bodies over the size limit, servers that stall
// or trickle past the deadline, redirects followed or refused by the
// policy, loopback destinations refused unless allowed, and certificate
// verification. Servers that stall wait on a gate the test opens after
// the client has returned; nothing waits on a sleep.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "adapters/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace catchup {

// Failures print by name in test messages.
std::ostream& operator<<(std::ostream& out, http_failure failure) {
  return out << to_string(failure);
}

} // namespace catchup

using namespace catchup;

namespace {

using steady = std::chrono::steady_clock;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A gate a server handler waits at until the test opens it.
class gate {
public:
  void open() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      open_ = true;
    }
    cv_.notify_all();
  }

  void wait() {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [this] { return open_; });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool open_ = false;
};

// One request as a server got it.
struct seen_request {
  std::string method;
  std::string path;
  std::string body;
  std::string authorization;
};

// A cpp-httplib server on 127.0.0.1 and a free port, serving from `start`
// until destroyed; it records every request before routing it.
class local_server {
public:
  explicit local_server(std::unique_ptr<httplib::Server> server,
                        std::string scheme = "http")
    : server_(std::move(server)), scheme_(std::move(scheme)) {
    server_->set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response&) {
        std::lock_guard<std::mutex> guard{mtx_};
        seen_.push_back({req.method, req.path, req.body,
                         req.get_header_value("Authorization")});
        return httplib::Server::HandlerResponse::Unhandled;
      });
  }

  ~local_server() {
    server_->stop();
    if (thread_.joinable())
      thread_.join();
  }

  httplib::Server& routes() {
    return *server_;
  }

  // Binds (so a request made at once waits in the backlog) and serves.
  void start() {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0)
      throw std::runtime_error("local_server: cannot bind 127.0.0.1");
    thread_ = std::thread{[this] { server_->listen_after_bind(); }};
    // stop() only works once the accept loop runs (httplib 0.11 has no
    // wait_until_ready), so the destructor waits for it the same way.
    const auto deadline = steady::now() + std::chrono::seconds(10);
    while (!server_->is_running()) {
      if (steady::now() > deadline) {
        std::fputs("local_server: not serving after 10 s\n", stderr);
        std::abort();
      }
      std::this_thread::yield();
    }
  }

  int port() const {
    return port_;
  }

  std::string url(const std::string& path) const {
    return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<seen_request> seen(const std::string& path) const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<seen_request> out;
    for (const auto& r : seen_)
      if (r.path == path)
        out.push_back(r);
    return out;
  }

  std::size_t requests() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return seen_.size();
  }

private:
  std::unique_ptr<httplib::Server> server_;
  std::string scheme_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mtx_;
  std::vector<seen_request> seen_;
};

void redirect(httplib::Response& res, int status, const std::string& to) {
  res.status = status;
  res.set_header("Location", to);
}

// Params for tests against 127.0.0.1: that host allowed, and bounds that
// fail a broken test instead of hanging it.
http_client_params loopback_params() {
  http_client_params p;
  p.connect_timeout_ms = 10000;
  p.read_timeout_ms = 10000;
  p.write_timeout_ms = 10000;
  p.request_timeout_ms = 20000;
  p.destinations.private_hosts_allowed = {"127.0.0.1"};
  return p;
}

http_result get(http_client& client, const std::string& url,
                http_header_list headers = {}) {
  http_request r;
  r.url = url;
  r.headers = std::move(headers);
  return client.send(r);
}

// Two plain servers; the second one is another origin for redirects.
struct server_fixture {
  // Before the servers: handlers wait on it until the destructor opens it.
  gate stalled;
  local_server server{std::make_unique<httplib::Server>()};
  local_server other{std::make_unique<httplib::Server>()};

  server_fixture() {
    auto& s = server.routes();
    s.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Test", "yes");
      res.set_content("hello", "text/plain");
    });
    s.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(8000, 'x'), "text/plain");
    });
    s.Get("/exact", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1024, 'y'), "text/plain");
    });
    s.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      stalled.wait();
      res.set_content("late", "text/plain");
    });
    s.Get("/trickle", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider(
        "text/plain", [this](std::size_t offset, httplib::DataSink& sink) {
          if (offset == 0) {
            sink.write("x", 1);
            return true;
          }
          stalled.wait();
          sink.done();
          return true;
        });
    });
    s.Get("/r1", [](const httplib::Request&, httplib::Response& res) {
      redirect(res, 302, "/r2");
    });
    s.Get("/r2", [](const httplib::Request&, httplib::Response& res) {
      redirect(res, 301, "done");
    });
    s.Get("/loop", [](const httplib::Request&, httplib::Response& res) {
      redirect(res, 302, "/loop");
    });
    s.Get("/to-localhost",
          [this](const httplib::Request&, httplib::Response& res) {
            redirect(res, 302,
                     "http://localhost:" + std::to_string(server.port())
                       + "/done");
          });
    s.Get("/to-other", [this](const httplib::Request&, httplib::Response& res) {
      redirect(res, 302, other.url("/done"));
    });
    s.Post("/see-other", [](const httplib::Request&, httplib::Response& res) {
      redirect(res, 303, "/done");
    });
    s.Post("/temporary", [](const httplib::Request&, httplib::Response& res) {
      redirect(res, 307, "/done");
    });
    auto done = [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("done " + req.method + " " + req.body, "text/plain");
    };
    s.Get("/done", done);
    s.Post("/done", done);
    other.routes().Get("/done", done);
    server.start();
    other.start();
  }

  ~server_fixture() {
    stalled.open();
  }
};

// -- a throwaway certificate authority ------------------------------------------

// A self-signed certificate for 127.0.0.1 (subjectAltName IP), its own
// CA, with its key; `ca_path` holds it as PEM for the client to trust.
struct test_certificate {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr,
                                                          EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, X509_free};
  test::temp_dir dir;
  std::string ca_path;

  test_certificate() {
    key.reset(EVP_EC_gen("P-256"));
    BOOST_REQUIRE(key);
    cert.reset(X509_new());
    X509* x = cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
    X509_set_pubkey(x, key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(
                                 "catchup test"),
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    const std::pair<int, const char*> extensions[]
      = {{NID_basic_constraints, "critical,CA:TRUE"},
         {NID_subject_alt_name, "IP:127.0.0.1"}};
    for (const auto& [nid, value] : extensions) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      BOOST_REQUIRE(ext != nullptr);
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    BOOST_REQUIRE(X509_sign(x, key.get(), EVP_sha256()) > 0);
    ca_path = dir / "ca.pem";
    FILE* out = std::fopen(ca_path.c_str(), "w");
    BOOST_REQUIRE(out != nullptr);
    PEM_write_X509(out, x);
    std::fclose(out);
  }
};

struct tls_fixture {
  test_certificate certificate;
  local_server plain{std::make_unique<httplib::Server>()};
  local_server tls{std::make_unique<httplib::SSLServer>(
                     certificate.cert.get(), certificate.key.get()),
                   "https"};

  tls_fixture() {
    BOOST_REQUIRE(tls.routes().is_valid());
    tls.routes().Get("/hello",
                     [](const httplib::Request&, httplib::Response& res) {
                       res.set_content("secure", "text/plain");
                     });
    tls.routes().Get("/downgrade",
                     [this](const httplib::Request&, httplib::Response& res) {
                       redirect(res, 302, plain.url("/done"));
                     });
    plain.routes().Get("/done",
                       [](const httplib::Request&, httplib::Response& res) {
                         res.set_content("plain", "text/plain");
                       });
    plain.start();
    tls.start();
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(adapters_http_client)

// -- responses and limits ---------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_response_comes_back_with_status_headers_and_body,
                        server_fixture) {
  http_client client{loopback_params()};
  auto r = get(client, server.url("/hello"));
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error.message);
  BOOST_TEST(r.response.status == 200);
  BOOST_TEST(r.response.body == "hello");
  BOOST_TEST(r.response.header("x-TEST") == "yes");
  BOOST_TEST(r.response.header("X-Absent").empty());
  BOOST_TEST(r.response.url == server.url("/hello"));

  // Any status is a response, not an error.
  auto missing = get(client, server.url("/missing"));
  BOOST_REQUIRE(missing.ok());
  BOOST_TEST(missing.response.status == 404);
}

BOOST_FIXTURE_TEST_CASE(a_body_over_response_bytes_max_is_refused,
                        server_fixture) {
  auto p = loopback_params();
  p.response_bytes_max = 1024;
  http_client client{p};
  auto big = get(client, server.url("/big"));
  BOOST_REQUIRE(!big.ok());
  BOOST_TEST(big.error.failure == http_failure::too_large);
  BOOST_TEST(big.error.status == 200);
  BOOST_TEST(big.error.host == "127.0.0.1:" + std::to_string(server.port()));
  BOOST_TEST(contains(big.error.message, "response_bytes_max (1024 bytes)"));
  BOOST_TEST(contains(big.error.message, big.error.host));

  // The limit itself is allowed, and the client still works.
  auto exact = get(client, server.url("/exact"));
  BOOST_REQUIRE_MESSAGE(exact.ok(), exact.error.message);
  BOOST_TEST(exact.response.body.size() == 1024u);
}

BOOST_FIXTURE_TEST_CASE(a_server_that_stalls_hits_the_request_deadline,
                        server_fixture) {
  auto p = loopback_params();
  // Only the deadline can end the request: every other bound is longer
  // than the test may take.
  p.read_timeout_ms = 600000;
  p.request_timeout_ms = 300;
  http_client client{p};
  const auto start = steady::now();
  auto r = get(client, server.url("/stall"));
  const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        steady::now() - start)
                        .count();
  stalled.open();
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error.failure == http_failure::timeout);
  BOOST_TEST(contains(r.error.message, "request_timeout_ms (300 ms)"));
  BOOST_TEST(contains(r.error.message, r.error.host));
  BOOST_TEST(took_ms >= 300);
  BOOST_TEST(took_ms < 60000);

  // The cut connection is not reused: the next request connects anew.
  auto next = get(client, server.url("/hello"));
  BOOST_REQUIRE_MESSAGE(next.ok(), next.error.message);
  BOOST_TEST(next.response.body == "hello");
}

BOOST_FIXTURE_TEST_CASE(a_server_that_trickles_its_body_hits_the_deadline,
                        server_fixture) {
  auto p = loopback_params();
  p.read_timeout_ms = 600000;
  p.request_timeout_ms = 300;
  http_client client{p};
  const auto start = steady::now();
  auto r = get(client, server.url("/trickle"));
  const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        steady::now() - start)
                        .count();
  stalled.open();
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error.failure == http_failure::timeout);
  BOOST_TEST(took_ms < 60000);
}

// -- redirects ----------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(redirects_are_refused_when_redirects_max_is_0,
                        server_fixture) {
  http_client client{loopback_params()};
  auto r = get(client, server.url("/r1"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error.failure == http_failure::redirect_refused);
  BOOST_TEST(r.error.status == 302);
  BOOST_TEST(contains(r.error.message, "redirects_max is 0"));
  BOOST_TEST(server.seen("/r2").empty());
}

BOOST_FIXTURE_TEST_CASE(redirects_are_followed_up_to_redirects_max,
                        server_fixture) {
  auto p = loopback_params();
  p.redirects_max = 2;
  http_client client{p};
  auto r = get(client, server.url("/r1"));
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error.message);
  BOOST_TEST(r.response.status == 200);
  BOOST_TEST(r.response.body == "done GET ");
  BOOST_TEST(r.response.url == server.url("/done"));

  p.redirects_max = 1;
  http_client one{p};
  auto refused = one.send({"GET", server.url("/r1"), {}, {}});
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error.failure == http_failure::redirect_refused);
  BOOST_TEST(contains(refused.error.message, "redirects_max (1)"));

  p.redirects_max = 20;
  http_client many{p};
  auto loop = get(many, server.url("/loop"));
  BOOST_REQUIRE(!loop.ok());
  BOOST_TEST(loop.error.failure == http_failure::redirect_refused);
  BOOST_TEST(server.seen("/loop").size() == 21u);
}

BOOST_FIXTURE_TEST_CASE(a_303_continues_as_a_get_and_a_307_repeats_the_post,
                        server_fixture) {
  auto p = loopback_params();
  p.redirects_max = 1;
  http_client client{p};
  http_request post{"POST", server.url("/see-other"),
                    {{"Content-Type", "text/plain"}}, "payload"};
  auto see_other = client.send(post);
  BOOST_REQUIRE_MESSAGE(see_other.ok(), see_other.error.message);
  BOOST_TEST(see_other.response.body == "done GET ");

  post.url = server.url("/temporary");
  auto temporary = client.send(post);
  BOOST_REQUIRE_MESSAGE(temporary.ok(), temporary.error.message);
  BOOST_TEST(temporary.response.body == "done POST payload");
}

BOOST_FIXTURE_TEST_CASE(credentials_never_follow_a_redirect_to_another_origin,
                        server_fixture) {
  auto p = loopback_params();
  p.redirects_max = 1;
  http_client client{p};
  auto r = get(client, server.url("/to-other"),
               {{"Authorization", "Bearer secret"}});
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error.message);
  BOOST_TEST(r.response.url == other.url("/done"));
  BOOST_REQUIRE_EQUAL(other.seen("/done").size(), 1u);
  BOOST_TEST(other.seen("/done")[0].authorization.empty());

  // Within one origin they stay.
  auto same = get(client, server.url("/r2"), {{"Authorization", "Bearer secret"}});
  BOOST_REQUIRE_MESSAGE(same.ok(), same.error.message);
  BOOST_REQUIRE_EQUAL(server.seen("/done").size(), 1u);
  BOOST_TEST(server.seen("/done")[0].authorization == "Bearer secret");
}

BOOST_FIXTURE_TEST_CASE(a_redirect_target_is_checked_like_the_first_url,
                        server_fixture) {
  auto p = loopback_params();
  p.redirects_max = 1;
  http_client client{p};
  // 127.0.0.1 is allowed by name; localhost, the same loopback, is not.
  auto r = get(client, server.url("/to-localhost"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error.failure == http_failure::destination_refused);
  BOOST_TEST(r.error.host == "localhost:" + std::to_string(server.port()));
  BOOST_TEST(contains(r.error.message, "loopback address"));
  BOOST_TEST(server.seen("/done").empty());
}

BOOST_FIXTURE_TEST_CASE(a_redirect_from_https_to_http_is_refused, tls_fixture) {
  auto p = loopback_params();
  p.redirects_max = 5;
  p.ca_cert_path = certificate.ca_path;
  http_client client{p};
  auto r = get(client, tls.url("/downgrade"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error.failure == http_failure::redirect_refused);
  BOOST_TEST(contains(r.error.message, "from https to http is refused"));
  BOOST_TEST(plain.requests() == 0u);
}

// -- destinations ---------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(loopback_destinations_are_refused_by_default,
                        server_fixture) {
  http_client client{http_client_params{}};
  auto r = get(client, server.url("/hello"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error.failure == http_failure::destination_refused);
  BOOST_TEST(r.error.host == "127.0.0.1:" + std::to_string(server.port()));
  BOOST_TEST(contains(r.error.message, "127.0.0.1 is a loopback address"));

  auto by_name = get(client, "http://localhost:" + std::to_string(server.port())
                               + "/hello");
  BOOST_REQUIRE(!by_name.ok());
  BOOST_TEST(by_name.error.failure == http_failure::destination_refused);
  BOOST_TEST(contains(by_name.error.message, "it resolves to"));
  // Refused before connecting: the server saw nothing.
  BOOST_TEST(server.requests() == 0u);
}

BOOST_FIXTURE_TEST_CASE(private_destinations_pass_when_the_policy_allows,
                        server_fixture) {
  http_client_params all;
  all.destinations.private_allowed = true;
  http_client client{all};
  auto by_name = get(client, "http://localhost:" + std::to_string(server.port())
                               + "/hello");
  BOOST_REQUIRE_MESSAGE(by_name.ok(), by_name.error.message);
  BOOST_TEST(by_name.response.body == "hello");

  http_client_params one;
  one.destinations.private_hosts_allowed = {"127.0.0.1"};
  http_client named{one};
  auto r = get(named, server.url("/hello"));
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error.message);
  BOOST_TEST(r.response.body == "hello");
}

// -- TLS and bad requests -------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(https_trusts_only_verified_certificates, tls_fixture) {
  auto p = loopback_params();
  http_client untrusting{p};
  auto refused = get(untrusting, tls.url("/hello"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error.failure == http_failure::tls_verification);
  BOOST_TEST(contains(refused.error.message, "certificate"));

  p.ca_cert_path = certificate.ca_path;
  http_client trusting{p};
  auto r = get(trusting, tls.url("/hello"));
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error.message);
  BOOST_TEST(r.response.body == "secure");
}

BOOST_FIXTURE_TEST_CASE(bad_urls_and_header_values_are_refused_unsent,
                        server_fixture) {
  http_client client{loopback_params()};
  auto scheme = get(client, "ftp://127.0.0.1/");
  BOOST_TEST(scheme.error.failure == http_failure::bad_request);
  BOOST_TEST(contains(scheme.error.message, "scheme"));

  auto injected = get(client, server.url("/hello"),
                      {{"Authorization", "Bearer a\r\nX-Injected: 1"}});
  BOOST_TEST(injected.error.failure == http_failure::bad_request);
  BOOST_TEST(contains(injected.error.message, "Authorization"));
  BOOST_TEST(!contains(injected.error.message, "X-Injected"));

  auto bad_name = get(client, server.url("/hello"), {{"Bad Name", "x"}});
  BOOST_TEST(bad_name.error.failure == http_failure::bad_request);
  BOOST_TEST(server.requests() == 0u);

  auto p = loopback_params();
  p.request_timeout_ms = 0;
  BOOST_CHECK_THROW(http_client{p}, std::invalid_argument);
  p = loopback_params();
  p.redirects_max = 21;
  BOOST_CHECK_THROW(http_client{p}, std::invalid_argument);
  p = loopback_params();
  p.response_bytes_max = 0;
  BOOST_CHECK_THROW(http_client{p}, std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
