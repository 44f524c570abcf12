// SPDX-License-Identifier: Apache-2.0
// The node in a host's own actor system: the documented message interface,
// errors as catchup error codes, pressure subscriptions, and every message
// type surviving a serialization round trip (an unregistered type would
// reach a remote node as an empty message).

#define BOOST_TEST_MODULE catchup node API
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catchup/node.hpp>

#include "api_fixture.hpp"

using namespace catchup;
using namespace catchup::api_test;

namespace {

struct host_config : caf::actor_system_config {
  host_config() {
    add_node_types(*this);
    set("logger.console", caf::atom("none"));
  }
};

template <class T>
T round_trip(caf::actor_system& sys, const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto copy = x;
  if (auto err = sink(copy))
    BOOST_FAIL("serializing failed: " << sys.render(err));
  T out;
  caf::binary_deserializer source{sys, buf};
  if (auto err = source(out))
    BOOST_FAIL("deserializing failed: " << sys.render(err));
  // As a message, too: what the wire carries. Its elements travel by their
  // registered names; an unregistered type fails here.
  std::vector<char> wire;
  caf::binary_serializer msg_sink{sys, wire};
  auto msg = caf::make_message(x);
  if (auto err = msg_sink(msg))
    BOOST_FAIL("serializing the message failed: " << sys.render(err));
  caf::message received;
  caf::binary_deserializer msg_source{sys, wire};
  if (auto err = msg_source(received))
    BOOST_FAIL("deserializing the message failed: " << sys.render(err));
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST_REQUIRE(received.template match_element<T>(0));
  return out;
}

struct fixture {
  test::test_database db;
  host_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  node_actor node;
  std::string user;
  const caf::duration timeout{std::chrono::seconds(60)};

  fixture() {
    // The user and contacts through the facade, then the node on the same
    // database.
    {
      auto eng = engine::open(config_for(db));
      BOOST_TEST_REQUIRE(eng.ok());
      user = user_with_contacts(*eng, "node", 4);
    }
    auto spawned = spawn_node(sys, config_for(db));
    BOOST_TEST_REQUIRE(spawned.ok(),
                       (spawned.ok() ? "" : spawned.error().message));
    node = *spawned;
  }

  ~fixture() {
    self->send_exit(node, caf::exit_reason::user_shutdown);
    self->wait_for(node);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(api_node, fixture)

BOOST_AUTO_TEST_CASE(the_node_answers_its_documented_interface) {
  self->request(node, timeout, node_atoms::status::value)
    .receive(
      [&](const node_info& info) {
        BOOST_TEST(info.version == version());
        BOOST_TEST(info.schema_version > 0);
        BOOST_TEST(!info.embedded_database);
      },
      [&](caf::error& err) { BOOST_FAIL(to_error(err).message); });

  generation_summary generated;
  self
    ->request(node, timeout, node_atoms::generate::value, user,
              now_unix_s)
    .receive([&](generation_summary& s) { generated = std::move(s); },
             [&](caf::error& err) { BOOST_FAIL(to_error(err).message); });
  BOOST_TEST(generated.suggestions == 4);

  std::vector<suggestion> pending;
  self->request(node, timeout, node_atoms::suggest::value, user)
    .receive([&](std::vector<suggestion>& xs) { pending = std::move(xs); },
             [&](caf::error& err) { BOOST_FAIL(to_error(err).message); });
  BOOST_TEST_REQUIRE(pending.size() == 4u);

  suggestion_response accept;
  accept.user_id = user;
  accept.suggestion_id = pending.front().id;
  accept.action = suggestion_action::accept;
  self->request(node, timeout, node_atoms::respond::value, accept)
    .receive(
      [&](const suggestion& s) {
        BOOST_TEST(s.status == suggestion_status::accepted);
      },
      [&](caf::error& err) { BOOST_FAIL(to_error(err).message); });
  // Answering twice is a conflict, as a catchup error code.
  self->request(node, timeout, node_atoms::respond::value, accept)
    .receive([&](const suggestion&) { BOOST_FAIL("accepted twice"); },
             [&](caf::error& err) {
               BOOST_TEST(to_error(err).code == error_code::conflict);
             });

  self->request(node, timeout, node_atoms::genall::value, now_unix_s)
    .receive([&](const run_totals& t) { BOOST_TEST(t.users == 1); },
             [&](caf::error& err) { BOOST_FAIL(to_error(err).message); });

  self->request(node, timeout, node_atoms::memory::value)
    .receive(
      [&](const memory_snapshot& m) { BOOST_TEST(m.budget_bytes > 0); },
      [&](caf::error& err) { BOOST_FAIL(to_error(err).message); });
}

BOOST_AUTO_TEST_CASE(failures_arrive_as_catchup_error_codes) {
  self
    ->request(node, timeout, node_atoms::generate::value,
              std::string{"00000000-0000-4000-8000-000000000005"}, now_unix_s)
    .receive([&](const generation_summary&) { BOOST_FAIL("no such user"); },
             [&](caf::error& err) {
               auto e = to_error(err);
               BOOST_TEST(e.code == error_code::not_found);
               BOOST_TEST(!e.message.empty());
             });
  suggestion_response nothing;
  nothing.user_id = user;
  nothing.suggestion_id = "00000000-0000-4000-8000-000000000006";
  self->request(node, timeout, node_atoms::respond::value, nothing)
    .receive([&](const suggestion&) { BOOST_FAIL("no such suggestion"); },
             [&](caf::error& err) {
               BOOST_TEST(to_error(err).code == error_code::not_found);
             });
}

BOOST_AUTO_TEST_CASE(message_types_survive_a_round_trip) {
  suggestion s{"id", "contact", "Ada", 2, 101.5, 10, 20, "Europe/Berlin",
               "why", suggestion_status::snoozed};
  auto s2 = round_trip(sys, s);
  BOOST_TEST(s2.contact_name == "Ada");
  BOOST_TEST(s2.priority == 101.5);
  BOOST_TEST(s2.status == suggestion_status::snoozed);

  generation_summary g;
  g.user_id = "u";
  g.suggestions = 1;
  g.warnings = {"w"};
  g.items = {s};
  auto g2 = round_trip(sys, g);
  BOOST_TEST(g2.items.size() == 1u);
  BOOST_TEST(g2.warnings == g.warnings);

  run_totals t;
  t.users = 7;
  t.breaker_holds = 2;
  BOOST_TEST(round_trip(sys, t).breaker_holds == 2);

  suggestion_response r;
  r.action = suggestion_action::snooze;
  r.snooze_until_unix_s = 99;
  r.reason = "later";
  auto r2 = round_trip(sys, r);
  BOOST_TEST((r2.action == suggestion_action::snooze));
  BOOST_TEST(r2.reason == "later");

  memory_snapshot m;
  m.level = memory_level::high;
  m.heap_bytes = 5;
  BOOST_TEST((round_trip(sys, m).level == memory_level::high));

  node_info n{"h:1", "0.1.0", 2, true};
  BOOST_TEST(round_trip(sys, n).node_id == "h:1");

  // Registered under their names: what a remote node looks them up by.
  for (auto name : {"catchup.suggestion", "catchup.generation_summary",
                    "catchup.run_totals", "catchup.suggestion_response",
                    "catchup.memory_snapshot", "catchup.node_info"})
    BOOST_TEST((sys.types().make_value(name) != nullptr), name);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_node_that_cannot_open_its_database_is_an_error) {
  host_config cfg;
  caf::actor_system sys{cfg};
  engine_config c;
  c.configure_logging = false;
  c.database_url = "postgresql:///catchup?host=/nonexistent-socket-dir";
  auto node = spawn_node(sys, c);
  BOOST_TEST_REQUIRE(!node.ok());
  BOOST_TEST(node.error().code == error_code::database_unavailable);
}

BOOST_AUTO_TEST_CASE(a_node_subscriber_hears_pressure_changes) {
  test::test_database db;
  host_config cfg;
  caf::actor_system sys{cfg};
  auto c = config_for(db);
  c.settings.push_back({"memory.budget_bytes", "65536"});
  // A drill: such a budget is refused at start unless the check is off.
  c.settings.push_back({"memory.budget_check_enabled", "false"});
  c.settings.push_back({"memory.sample_interval_ms", "10"});
  auto node = spawn_node(sys, c);
  BOOST_TEST_REQUIRE(node.ok());
  caf::scoped_actor self{sys};
  self->request(*node, std::chrono::seconds(60), node_atoms::subscribe::value,
                caf::actor_cast<caf::actor>(self))
    .receive([](bool ok) { BOOST_TEST(ok); },
             [](caf::error& err) { BOOST_FAIL(to_error(err).message); });
  // The current reading first (normal, if no sample ran yet), then the
  // change to critical.
  bool critical = false;
  bool timed_out = false;
  for (int i = 0; i < 2 && !critical && !timed_out; ++i)
    self->receive(
      [&](node_atoms::pressure, const memory_snapshot& m) {
        critical = m.level == memory_level::critical;
      },
      caf::after(std::chrono::seconds(60)) >> [&] { timed_out = true; });
  // The node first, so a failed check below cannot leave it running.
  self->send_exit(*node, caf::exit_reason::user_shutdown);
  self->wait_for(*node);
  BOOST_TEST(!timed_out);
  BOOST_TEST(critical);
}
