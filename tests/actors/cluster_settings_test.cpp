// SPDX-License-Identifier: Apache-2.0
// What a node or client refuses before it opens a single socket: clustering
// without certificates (CAF would fall back to anonymous TLS) unless
// insecure is said, unreadable certificate files, a heartbeat too slow for
// the peer timeout, and addresses that are not host:port.

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <stdexcept>
#include <string>

#include "actors/cluster.hpp"
#include "tests/support/temp_dir.hpp"

using namespace catchup;

namespace {

/// The text of what `f` throws as std::invalid_argument ("" if nothing).
template <class F>
std::string refusal(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(actors_cluster_settings)

BOOST_AUTO_TEST_CASE(clustering_needs_certificates_unless_insecure_is_said) {
  config::cluster_settings c;
  auto none = refusal([&] { check_cluster_security(c); });
  BOOST_TEST(has(none, "cluster.tls.cert, cluster.tls.key, cluster.tls.ca "
                       "are not set"),
             none);
  BOOST_TEST(has(none, "anonymous"), none);
  BOOST_TEST(has(none, "cluster.insecure = true"), none);
  test::temp_dir dir;
  auto file = [&](const std::string& name) {
    auto path = dir.path() + "/" + name;
    std::ofstream{path} << "-----BEGIN CERTIFICATE-----\n";
    return path;
  };
  c.tls_cert = file("node.pem");
  auto two = refusal([&] { check_cluster_security(c); });
  BOOST_TEST(has(two, "cluster.tls.key, cluster.tls.ca are not set"), two);
  c.tls_key = file("node.key");
  c.tls_ca = dir.path() + "/missing-ca.pem";
  auto missing = refusal([&] { check_cluster_security(c); });
  BOOST_TEST(has(missing, "cluster.tls.ca = \"" + c.tls_ca
                            + "\": cannot read the file"),
             missing);
  c.tls_ca = file("ca.pem");
  BOOST_TEST(refusal([&] { check_cluster_security(c); }).empty());
  config::cluster_settings insecure;
  insecure.insecure = true;
  BOOST_TEST(refusal([&] { check_cluster_security(insecure); }).empty());
}

BOOST_AUTO_TEST_CASE(a_heartbeat_slower_than_half_the_peer_timeout_is_refused) {
  config::cluster_settings c;
  c.insecure = true;
  c.heartbeat_ms = 1500;
  c.peer_timeout_ms = 2000;
  auto slow = refusal([&] { check_cluster_security(c); });
  BOOST_TEST(has(slow, "cluster.heartbeat_ms = 1500 must be at most half of "
                       "cluster.peer_timeout_ms = 2000"),
             slow);
  c.heartbeat_ms = 1000;
  BOOST_TEST(refusal([&] { check_cluster_security(c); }).empty());
}

BOOST_AUTO_TEST_CASE(peer_addresses_are_host_and_port) {
  BOOST_TEST((split_address("10.0.0.2:4242")
              == std::pair<std::string, std::uint16_t>{"10.0.0.2", 4242}));
  BOOST_TEST((split_address("[::1]:80")
              == std::pair<std::string, std::uint16_t>{"::1", 80}));
  BOOST_TEST(has(refusal([] { split_address("node-1"); }), "is not host:port"));
  BOOST_TEST(has(refusal([] { split_address(":4242"); }), "is not host:port"));
  for (auto bad : {"h:0", "h:65536", "h:42x", "h:"})
    BOOST_TEST(has(refusal([&] { split_address(bad); }),
                   "the port must be a number from 1 to 65535"),
               bad);
}

BOOST_AUTO_TEST_SUITE_END()
