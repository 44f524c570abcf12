// SPDX-License-Identifier: Apache-2.0
// A node through catchup/server.hpp as a host runs one: its HTTP endpoint
// answers while its engine is open and is gone, not dangling, once the
// engine is closed behind the node's back.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <string>

#include <catchup/admin.hpp>
#include <catchup/server.hpp>

#include "api_fixture.hpp"
#include "serve_process.hpp"

using namespace catchup;
using namespace catchup::api_test;

namespace {

/// The whole answer to GET `path` on 127.0.0.1:`port`; empty when nothing
/// listens there.
std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_TEST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr))
      == 0) {
    const std::string request = "GET " + path
                                + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Connection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL)
        == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_server)

BOOST_AUTO_TEST_CASE(closing_a_nodes_engine_stops_its_endpoint_first) {
  test::test_database db;
  auto c = config_for(db);
  c.settings.push_back({"http.port", "0"});
  c.settings.push_back({"node.owner", "api-server"});
  auto started = server::start(c);
  BOOST_TEST_REQUIRE(started.ok(),
                     (started.ok() ? "" : started.error().message));
  auto node = std::move(*started);
  BOOST_TEST(node.node_id() == "api-server");
  const int port = node.http_port();
  BOOST_TEST_REQUIRE(port > 0);
  const auto metrics = http_get(port, "/metrics");
  BOOST_TEST(metrics.find("200 OK") != std::string::npos, metrics);
  BOOST_TEST(metrics.find("catchup_") != std::string::npos);
  BOOST_TEST(http_get(port, "/status").find("\"api-server\"")
             != std::string::npos);

  // Closed through engine(), not through the node: the endpoint, whose
  // answers read the engine, stops before the engine goes.
  node.engine().close();
  BOOST_TEST(!node.engine().is_open());
  BOOST_TEST(http_get(port, "/metrics").empty());
  BOOST_TEST(http_get(port, "/status").empty());
  node.stop();
  node.close();
  BOOST_TEST(node.http_port() == port); // still says where it was
}

// Labelled "network": this process talks to another node (see
// tests/CMakeLists.txt, api_network).
BOOST_AUTO_TEST_CASE(a_generation_asked_of_a_node_runs_there_or_times_out,
                     *boost::unit_test::label("network")) {
  test::test_database db;
  auto node = start_serve_process(db.url(), "api-via");
  auto c = config_for(db);
  c.settings.push_back({"cluster.insecure", "true"});
  std::string user;
  {
    auto opened = engine::open(config_for(db));
    BOOST_TEST_REQUIRE(opened.ok());
    user = user_with_contacts(*opened, "via", 3);
  }

  auto ran = admin::generate_via(c, node.address, user, now_unix_s,
                                 std::chrono::seconds(60));
  BOOST_TEST_REQUIRE(ran.ok(), (ran.ok() ? "" : ran.error().message));
  BOOST_TEST(ran->node_id == "api-via");
  BOOST_TEST(ran->summary.items.size() == 3u);

  // A millisecond is too short for any generation over the network: the
  // caller learns it as a timeout, not as an internal failure.
  auto late = admin::generate_via(c, node.address, user, now_unix_s,
                                  std::chrono::milliseconds(1));
  BOOST_TEST_REQUIRE(!late.ok());
  BOOST_TEST(late.error().code == error_code::timeout, late.error().message);

  auto nobody = admin::generate_via(c, "127.0.0.1:1", user, now_unix_s,
                                    std::chrono::seconds(5));
  BOOST_TEST_REQUIRE(!nobody.ok());
  BOOST_TEST(nobody.error().code != error_code::timeout);
  BOOST_TEST(nobody.error().message.find("cannot reach the node at "
                                         "127.0.0.1:1")
               != std::string::npos,
             nobody.error().message);
  node.process->signal(SIGTERM);
  BOOST_TEST(node.process->wait(std::chrono::seconds(60)) == 0,
             node.process->output());
}

BOOST_AUTO_TEST_SUITE_END()
