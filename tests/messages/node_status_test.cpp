// SPDX-License-Identifier: Apache-2.0
// Every message type survives CAF's binary serialization unchanged; a type
// missing from the type-ID block would arrive on a remote node empty.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "actors/system_config.hpp"
#include "messages/error.hpp"
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
  node_status x{"host:42", "0.1.0", 7, true};
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

BOOST_AUTO_TEST_SUITE_END()
