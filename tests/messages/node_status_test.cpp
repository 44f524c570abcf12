// SPDX-License-Identifier: Apache-2.0
// Every message type survives CAF's binary serialization unchanged; a type
// missing from the type-ID block would arrive on a remote node empty.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "actors/system_config.hpp"
#include "messages/atoms.hpp"
#include "messages/error_codes.hpp"
#include "messages/type_ids.hpp"

using namespace catchup;

namespace {

template <class T>
T roundtrip(caf::actor_system& sys, const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto err = sink(const_cast<T&>(x));
  BOOST_REQUIRE(!err);
  T y;
  caf::binary_deserializer source{sys, buf};
  err = source(y);
  BOOST_REQUIRE(!err);
  return y;
}

} // namespace

BOOST_AUTO_TEST_SUITE(messages_node_status)

BOOST_AUTO_TEST_CASE(node_status_round_trips) {
  system_config cfg;
  caf::actor_system sys{cfg};
  node_status x;
  x.node_id = "host:42";
  x.address = "10.0.0.2:4242";
  x.version = "0.1.0";
  x.state = "down";
  x.level = pressure_level::high;
  x.allocated_bytes = 750;
  x.budget_bytes = 1000;
  x.used_percent = 75;
  x.jobs_in_flight = 3;
  x.heartbeat_age_ms = 1200;
  BOOST_TEST((roundtrip(sys, x) == x));
  // Registered under its stable wire name.
  auto msg = caf::make_message(x);
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  BOOST_TEST(!sink(msg));
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  BOOST_TEST(!source(back));
  BOOST_REQUIRE(back.match_elements<node_status>());
  BOOST_TEST((back.get_as<node_status>(0) == x));
}

BOOST_AUTO_TEST_CASE(memory_status_and_run_summary_round_trip) {
  system_config cfg;
  caf::actor_system sys{cfg};
  memory_status x;
  x.level = pressure_level::high;
  x.allocated_bytes = 750;
  x.resident_bytes = 2000;
  x.budget_bytes = 1000;
  x.used_percent = 75;
  x.change_seq = 9;
  auto y = roundtrip(sys, x);
  BOOST_TEST((y.level == pressure_level::high));
  BOOST_TEST(y.allocated_bytes == 750);
  BOOST_TEST(y.resident_bytes == 2000);
  BOOST_TEST(y.budget_bytes == 1000);
  BOOST_TEST(y.used_percent == 75.0);
  BOOST_TEST(y.change_seq == 9u);
  BOOST_TEST(describe(y) == "memory pressure high: 0.0 MiB allocated, 0.0 "
                            "MiB resident, budget 0.0 MiB (75.0%)");
  run_summary s;
  s.users = 1000;
  s.failed = 1;
  s.partial = 575;
  s.breaker_holds = 2;
  s.wall_ms = 12.5;
  auto t = roundtrip(sys, s);
  BOOST_TEST(t.users == 1000);
  BOOST_TEST(t.failed == 1);
  BOOST_TEST(t.partial == 575);
  BOOST_TEST(t.breaker_holds == 2);
  BOOST_TEST(t.wall_ms == 12.5);
}

BOOST_AUTO_TEST_CASE(a_level_beyond_critical_from_a_peer_is_clamped) {
  system_config cfg;
  caf::actor_system sys{cfg};
  memory_status x;
  x.level = static_cast<pressure_level>(7); // as a broken peer might send
  auto y = roundtrip(sys, x);
  BOOST_TEST((y.level == pressure_level::critical));
}

BOOST_AUTO_TEST_CASE(error_codes_have_readable_names) {
  BOOST_TEST(to_string(ec::db_unavailable) == "db_unavailable");
  BOOST_TEST(to_string(ec::memory_critical) == "memory_critical");
  system_config cfg;
  caf::actor_system sys{cfg};
  auto text = sys.render(caf::make_error(ec::schema_too_new, "version 9"));
  BOOST_TEST(text.find("schema_too_new") != std::string::npos);
  BOOST_TEST(text.find("version 9") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_message_of_the_cluster_interface_round_trips) {
  // What crosses nodes, as whole messages: an unregistered element would
  // arrive as an empty message on the other node.
  system_config cfg;
  caf::actor_system sys{cfg};
  node_status peer;
  peer.node_id = "b:7";
  peer.address = "10.0.0.3:4242";
  peer.level = pressure_level::elevated;
  peer.used_percent = 63.5;
  routed_generation routed;
  routed.node_id = "b:7";
  routed.attempts = 2;
  routed.result.user_id = "u";
  routed.result.generation_id = "g";
  routed.result.suggestions = 1;
  routed.result.warnings = {"partial"};
  suggestion_record item;
  item.id = "s";
  item.contact_id = "c";
  item.rank = 1;
  item.priority = 0.5;
  item.slot_start_unix_s = 100;
  item.slot_end_unix_s = 200;
  routed.result.items.push_back(item);
  std::vector<caf::message> messages{
    caf::make_message(atom::generate::value, std::string{"u"},
                      std::int64_t{1772452800}, std::int64_t{5000}),
    caf::make_message(atom::local::value, std::string{"u"}, std::int64_t{0},
                      std::int64_t{5000}),
    caf::make_message(atom::status::value),
    caf::make_message(atom::peers::value),
    caf::make_message(atom::pressure::value, peer),
    caf::make_message(atom::pressure::value, memory_status{}),
    caf::make_message(atom::tick::value),
    caf::make_message(routed),
    caf::make_message(peer),
    caf::make_message(std::vector<node_status>{peer, peer}),
    caf::make_message(
      caf::make_error(ec::unavailable, "every node is at critical pressure")),
  };
  for (auto& msg : messages) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    BOOST_REQUIRE(!sink(msg));
    caf::message back;
    caf::binary_deserializer source{sys, buf};
    BOOST_REQUIRE(!source(back));
    BOOST_TEST(back.size() == msg.size(), caf::to_string(msg));
    BOOST_TEST(caf::to_string(back) == caf::to_string(msg));
  }
  // The values themselves, not only their text.
  auto back = roundtrip(sys, routed);
  BOOST_TEST(back.node_id == "b:7");
  BOOST_TEST(back.attempts == 2);
  BOOST_REQUIRE_EQUAL(back.result.items.size(), 1u);
  BOOST_TEST(back.result.items[0].slot_end_unix_s == 200);
  BOOST_TEST(back.result.warnings.at(0) == "partial");
  auto peers = roundtrip(sys, std::vector<node_status>{peer});
  BOOST_TEST((peers.at(0) == peer));
}

BOOST_AUTO_TEST_CASE(a_peer_level_beyond_critical_is_clamped) {
  system_config cfg;
  caf::actor_system sys{cfg};
  node_status x;
  x.level = static_cast<pressure_level>(9);
  BOOST_TEST((roundtrip(sys, x).level == pressure_level::critical));
}

BOOST_AUTO_TEST_SUITE_END()
