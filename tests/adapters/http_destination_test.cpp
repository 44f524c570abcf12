// SPDX-License-Identifier: Apache-2.0
// The destination policy of outbound requests: which addresses count as
// loopback, private, link-local and otherwise special, how a policy allows
// them, and how resolved names are judged by every address they have.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "adapters/http_destination.hpp"

using namespace catchup;

namespace {

std::string kind_of(const std::string& address) {
  return special_address_kind(address).value_or("public");
}

// What the policy says of `host` at `addresses`; "" when it allows them.
std::string problem(const http_destination_policy& policy,
                    const std::string& host,
                    const std::vector<std::string>& addresses) {
  return destination_problem(policy, host, addresses).value_or("");
}

} // namespace

BOOST_AUTO_TEST_SUITE(adapters_http_destination)

BOOST_AUTO_TEST_CASE(special_ipv4_ranges_are_named) {
  BOOST_TEST(kind_of("127.0.0.1") == "loopback");
  BOOST_TEST(kind_of("127.255.255.254") == "loopback");
  BOOST_TEST(kind_of("10.1.2.3") == "private");
  BOOST_TEST(kind_of("172.16.0.1") == "private");
  BOOST_TEST(kind_of("172.31.255.255") == "private");
  BOOST_TEST(kind_of("192.168.1.1") == "private");
  BOOST_TEST(kind_of("169.254.169.254") == "link-local");
  BOOST_TEST(kind_of("100.64.0.1") == "shared (carrier-grade NAT)");
  BOOST_TEST(kind_of("0.0.0.0") == "unspecified");
  BOOST_TEST(kind_of("224.0.0.1") == "multicast");
  BOOST_TEST(kind_of("255.255.255.255") == "reserved");
  BOOST_TEST(kind_of("192.0.2.10") == "documentation");

  BOOST_TEST(kind_of("8.8.8.8") == "public");
  BOOST_TEST(kind_of("172.32.0.1") == "public");
  BOOST_TEST(kind_of("100.128.0.1") == "public");
  BOOST_TEST(kind_of("142.250.185.74") == "public");
}

BOOST_AUTO_TEST_CASE(special_ipv6_ranges_are_named) {
  BOOST_TEST(kind_of("::1") == "loopback");
  BOOST_TEST(kind_of("::") == "unspecified");
  BOOST_TEST(kind_of("fe80::1") == "link-local");
  BOOST_TEST(kind_of("fc00::1") == "private");
  BOOST_TEST(kind_of("fd12:3456::1") == "private");
  BOOST_TEST(kind_of("ff02::1") == "multicast");
  BOOST_TEST(kind_of("2001:db8::1") == "documentation");
  // Addresses that reach an IPv4 address are judged by it.
  BOOST_TEST(kind_of("::ffff:127.0.0.1") == "loopback");
  BOOST_TEST(kind_of("::ffff:10.0.0.1") == "private");
  BOOST_TEST(kind_of("64:ff9b::a9fe:a9fe") == "link-local");
  BOOST_TEST(kind_of("2002:c0a8:0101::1") == "private");
  BOOST_TEST(kind_of("::ffff:8.8.8.8") == "public");

  BOOST_TEST(kind_of("2001:4860:4860::8888") == "public");
  BOOST_TEST(kind_of("2a00:1450:4001:82a::200e") == "public");
}

BOOST_AUTO_TEST_CASE(hosts_written_as_addresses_are_told_from_names) {
  BOOST_TEST(names_address_literally("127.0.0.1"));
  BOOST_TEST(names_address_literally("::1"));
  BOOST_TEST(names_address_literally("localhost"));
  BOOST_TEST(!names_address_literally("people.googleapis.com"));
  BOOST_TEST(!names_address_literally("127.0.0.1.nip.io"));
}

BOOST_AUTO_TEST_CASE(the_policy_refuses_special_addresses_unless_allowed) {
  http_destination_policy refuse;
  BOOST_TEST(problem(refuse, "127.0.0.1", {"127.0.0.1"})
             == "127.0.0.1 is a loopback address");
  // One private address among public ones is enough to refuse a name.
  BOOST_TEST(problem(refuse, "mixed.example", {"8.8.8.8", "10.0.0.7"})
             == "it resolves to 10.0.0.7, a private address");
  BOOST_TEST(problem(refuse, "dns.google", {"8.8.8.8"}).empty());

  http_destination_policy allow_all;
  allow_all.private_allowed = true;
  BOOST_TEST(problem(allow_all, "127.0.0.1", {"127.0.0.1"}).empty());

  http_destination_policy allow_one;
  allow_one.private_hosts_allowed = {"127.0.0.1"};
  BOOST_TEST(problem(allow_one, "127.0.0.1", {"127.0.0.1"}).empty());
  BOOST_TEST(problem(allow_one, "localhost", {"127.0.0.1"})
             == "it resolves to 127.0.0.1, a loopback address");
}

BOOST_AUTO_TEST_CASE(hosts_resolve_to_every_address_they_have) {
  auto literal = resolve_host("127.0.0.1", 80);
  BOOST_TEST(literal.problem.empty());
  BOOST_TEST(literal.addresses == std::vector<std::string>{"127.0.0.1"});
  // From the hosts file, never the network: loopback addresses only.
  auto local = resolve_host("localhost", 80);
  BOOST_TEST(local.problem.empty());
  BOOST_REQUIRE(!local.addresses.empty());
  for (const auto& address : local.addresses)
    BOOST_TEST(kind_of(address) == "loopback");
}

BOOST_AUTO_TEST_SUITE_END()
