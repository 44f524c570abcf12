// SPDX-License-Identifier: Apache-2.0
// Cluster membership against real PostgreSQL: nodes register, beat with
// their load, are listed by id, declared down (a beat brings one back),
// leave, and are pruned once gone long enough; bad arguments are refused
// with what was wrong. Beats are aged by moving heartbeat_at into the past
// in the test database, never by sleeping.

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"
#include "storage/node_registry.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

constexpr std::int64_t hour_ms = 3600LL * 1000;

struct migrated_database {
  migrated_database() {
    migrate(db.url());
  }
  test::test_database db;
};

std::int64_t number(const test::test_database& db, const std::string& sql) {
  return std::stoll(db.query(sql).at(0));
}

std::int64_t db_now_unix_ms(const test::test_database& db) {
  return number(db, "SELECT floor(extract(epoch FROM clock_timestamp()) "
                    "* 1000)::bigint");
}

// As if the node's latest beat had come `age` ago.
void age_heartbeat(const test::test_database& db, const std::string& id,
                   const std::string& age) {
  db.query("UPDATE nodes SET heartbeat_at = now() - interval '" + age
           + "' WHERE id = '" + id + "' RETURNING id");
}

// The node's row; fails the test if there is none.
node_record find(node_registry& nodes, const std::string& id) {
  for (auto& n : nodes.list())
    if (n.id == id)
      return n;
  BOOST_FAIL("no node " + id);
  return {};
}

// The error's code and message, or ec::none and "" if f did not throw.
std::pair<ec, std::string> error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const storage_error& e) {
    return {e.code(), e.what()};
  }
  return {ec::none, ""};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_node_registry)

BOOST_AUTO_TEST_CASE(the_nodes_migration_is_schema_version_three) {
  migrated_database m;
  BOOST_TEST(known_schema_version() >= 3);
  BOOST_TEST(schema_version(m.db.url()) == known_schema_version());
  BOOST_TEST(built_in_migrations().at(2).version == 3);
  BOOST_TEST(built_in_migrations().at(2).name == "nodes");
}

BOOST_AUTO_TEST_CASE(registered_nodes_are_listed_by_id_up_and_just_beaten) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  BOOST_TEST(nodes.list().empty());
  auto before = db_now_unix_ms(m.db);
  nodes.register_node("host-b:20", "10.0.0.2:4242", "1.2.0");
  nodes.register_node("host-a:10", "", "1.2.0");
  auto after = db_now_unix_ms(m.db);
  auto all = nodes.list();
  BOOST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].id == "host-a:10");
  BOOST_TEST(all[1].id == "host-b:20");
  auto& b = all[1];
  BOOST_TEST(b.address == "10.0.0.2:4242");
  BOOST_TEST(all[0].address == "");
  BOOST_TEST(b.version == "1.2.0");
  BOOST_TEST(b.state == "up");
  BOOST_TEST(b.level == "normal");
  BOOST_TEST(b.heap_bytes == 0);
  BOOST_TEST(b.budget_bytes == 0);
  BOOST_TEST(b.jobs_in_flight == 0);
  BOOST_TEST(b.started_unix_ms >= before - 1);
  BOOST_TEST(b.started_unix_ms <= after);
  BOOST_TEST(b.heartbeat_unix_ms == b.started_unix_ms);
  BOOST_TEST(b.heartbeat_age_ms >= 0);
  BOOST_TEST(b.heartbeat_age_ms <= after - before + 1000);
  BOOST_TEST(b.down_unix_ms == 0);
  BOOST_TEST(b.down_reason == "");
  // The limit cuts the list in id order.
  auto first = nodes.list(1);
  BOOST_REQUIRE(first.size() == 1u);
  BOOST_TEST(first[0].id == "host-a:10");
}

BOOST_AUTO_TEST_CASE(a_heartbeat_records_the_load_on_the_database_clock) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  nodes.register_node("n1", "", "1.0");
  age_heartbeat(m.db, "n1", "5 seconds");
  auto aged = find(nodes, "n1");
  BOOST_TEST(aged.heartbeat_age_ms >= 5000);
  BOOST_TEST(aged.heartbeat_age_ms < 5000 + hour_ms);

  node_heartbeat hb;
  hb.level = "high";
  hb.allocated_bytes = 3LL << 30;
  hb.budget_bytes = 4LL << 30;
  hb.jobs_in_flight = 7;
  BOOST_TEST(nodes.heartbeat("n1", hb));
  auto beaten = find(nodes, "n1");
  BOOST_TEST(beaten.level == "high");
  BOOST_TEST(beaten.heap_bytes == 3LL << 30);
  BOOST_TEST(beaten.budget_bytes == 4LL << 30);
  BOOST_TEST(beaten.jobs_in_flight == 7);
  BOOST_TEST(beaten.heartbeat_age_ms < aged.heartbeat_age_ms);
  BOOST_TEST(beaten.heartbeat_unix_ms >= aged.heartbeat_unix_ms + 5000);
  BOOST_TEST(beaten.started_unix_ms == aged.started_unix_ms);
  BOOST_TEST(beaten.state == "up");
  // Allocation above the budget is what pressure looks like, not an error.
  hb.allocated_bytes = 5LL << 30;
  hb.level = "critical";
  BOOST_TEST(nodes.heartbeat("n1", hb));
  BOOST_TEST(find(nodes, "n1").heap_bytes == 5LL << 30);
}

BOOST_AUTO_TEST_CASE(a_heartbeat_without_a_row_says_so_and_creates_nothing) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  BOOST_TEST(!nodes.heartbeat("never-registered", node_heartbeat{}));
  BOOST_TEST(nodes.list().empty());
  // A pruned node finds out on its next beat and registers again.
  nodes.register_node("n1", "", "1.0");
  nodes.leave("n1");
  age_heartbeat(m.db, "n1", "1 hour");
  BOOST_TEST(nodes.prune(60000) == 1);
  BOOST_TEST(!nodes.heartbeat("n1", node_heartbeat{}));
  nodes.register_node("n1", "", "1.0");
  BOOST_TEST(nodes.heartbeat("n1", node_heartbeat{}));
}

BOOST_AUTO_TEST_CASE(a_node_declared_down_that_beats_again_is_up) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  nodes.register_node("n1", "h1:1", "1.0");
  nodes.register_node("n2", "h2:1", "1.0");
  auto before = db_now_unix_ms(m.db);
  BOOST_TEST(nodes.mark_down("n1", "n2 lost its connection to h1:1"));
  auto down = find(nodes, "n1");
  BOOST_TEST(down.state == "down");
  BOOST_TEST(down.down_reason == "n2 lost its connection to h1:1");
  BOOST_TEST(down.down_unix_ms >= before - 1);
  BOOST_TEST(down.down_unix_ms <= db_now_unix_ms(m.db));
  // Declared down once: a second peer saying so changes nothing.
  BOOST_TEST(!nodes.mark_down("n1", "n3 saw it too"));
  BOOST_TEST(find(nodes, "n1").down_reason
             == "n2 lost its connection to h1:1");
  BOOST_TEST(find(nodes, "n2").state == "up");
  BOOST_TEST(!nodes.mark_down("nobody", "no such node"));
  BOOST_TEST(nodes.list().size() == 2u);

  node_heartbeat hb;
  hb.jobs_in_flight = 2;
  BOOST_TEST(nodes.heartbeat("n1", hb));
  auto back = find(nodes, "n1");
  BOOST_TEST(back.state == "up");
  BOOST_TEST(back.down_unix_ms == 0);
  BOOST_TEST(back.down_reason == "");
  BOOST_TEST(back.jobs_in_flight == 2);
  // Up again, so it can be declared down again.
  BOOST_TEST(nodes.mark_down("n1", "again"));
}

BOOST_AUTO_TEST_CASE(registering_again_starts_a_new_incarnation) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  nodes.register_node("n1", "h1:1", "1.0");
  node_heartbeat hb;
  hb.level = "elevated";
  hb.allocated_bytes = 100;
  hb.budget_bytes = 200;
  hb.jobs_in_flight = 3;
  BOOST_TEST(nodes.heartbeat("n1", hb));
  BOOST_TEST(nodes.mark_down("n1", "seen dead"));
  m.db.query("UPDATE nodes SET started_at = now() - interval '1 hour', "
             "heartbeat_at = now() - interval '1 hour' RETURNING id");
  auto old = find(nodes, "n1");
  nodes.register_node("n1", "h1:2", "1.1");
  auto fresh = find(nodes, "n1");
  BOOST_TEST(fresh.state == "up");
  BOOST_TEST(fresh.address == "h1:2");
  BOOST_TEST(fresh.version == "1.1");
  BOOST_TEST(fresh.level == "normal");
  BOOST_TEST(fresh.heap_bytes == 0);
  BOOST_TEST(fresh.budget_bytes == 0);
  BOOST_TEST(fresh.jobs_in_flight == 0);
  BOOST_TEST(fresh.down_unix_ms == 0);
  BOOST_TEST(fresh.down_reason == "");
  BOOST_TEST(fresh.started_unix_ms >= old.started_unix_ms + hour_ms - 1000);
  BOOST_TEST(fresh.heartbeat_age_ms < hour_ms);
  BOOST_TEST(nodes.list().size() == 1u);
}

// A node killed before its first beat must still show what it registered
// with (a cluster status once showed such a node with budget 0).
BOOST_AUTO_TEST_CASE(a_node_registers_with_its_load_known) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  node_heartbeat load;
  load.level = "high";
  load.allocated_bytes = 700;
  load.budget_bytes = 1000;
  load.jobs_in_flight = 4;
  nodes.register_node("n1", "h1:1", "1.0", load);
  auto row = find(nodes, "n1");
  BOOST_TEST(row.level == "high");
  BOOST_TEST(row.heap_bytes == 700);
  BOOST_TEST(row.budget_bytes == 1000);
  BOOST_TEST(row.jobs_in_flight == 4);
  // Again, after a restart: the new incarnation's load, at once.
  load.level = "normal";
  load.budget_bytes = 2000;
  load.jobs_in_flight = 0;
  nodes.register_node("n1", "h1:1", "1.1", load);
  row = find(nodes, "n1");
  BOOST_TEST(row.level == "normal");
  BOOST_TEST(row.budget_bytes == 2000);
  BOOST_TEST(row.jobs_in_flight == 0);
  load.level = "bogus";
  BOOST_CHECK_THROW(nodes.register_node("n2", "", "1.0", load), storage_error);
}

BOOST_AUTO_TEST_CASE(a_node_that_leaves_is_left_and_no_longer_declared_down) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  nodes.register_node("n1", "", "1.0");
  nodes.register_node("n2", "", "1.0");
  node_heartbeat busy;
  busy.jobs_in_flight = 8;
  BOOST_TEST(nodes.heartbeat("n1", busy));
  nodes.leave("n1");
  BOOST_TEST(find(nodes, "n1").state == "left");
  // It runs nothing any more, whatever its last beat said.
  BOOST_TEST(find(nodes, "n1").jobs_in_flight == 0);
  // Only an up node is declared down.
  BOOST_TEST(!nodes.mark_down("n1", "gone quiet"));
  BOOST_TEST(find(nodes, "n1").state == "left");
  // A down node that then says goodbye: left, its down mark cleared.
  BOOST_TEST(nodes.mark_down("n2", "gone quiet"));
  nodes.leave("n2");
  auto n2 = find(nodes, "n2");
  BOOST_TEST(n2.state == "left");
  BOOST_TEST(n2.down_unix_ms == 0);
  BOOST_TEST(n2.down_reason == "");
  // Leaving twice, or without a row, is a no-op.
  nodes.leave("n2");
  nodes.leave("nobody");
  BOOST_TEST(nodes.list().size() == 2u);
  // A node that left and beats again is back.
  BOOST_TEST(nodes.heartbeat("n1", node_heartbeat{}));
  BOOST_TEST(find(nodes, "n1").state == "up");
}

BOOST_AUTO_TEST_CASE(prune_deletes_only_nodes_gone_long_enough) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  for (auto id : {"up-old", "down-old", "left-old", "down-new", "left-new"})
    nodes.register_node(id, "", "1.0");
  BOOST_TEST(nodes.mark_down("down-old", "r"));
  BOOST_TEST(nodes.mark_down("down-new", "r"));
  nodes.leave("left-old");
  nodes.leave("left-new");
  for (auto id : {"up-old", "down-old", "left-old"})
    age_heartbeat(m.db, id, "2 hours");
  age_heartbeat(m.db, "down-new", "30 minutes");
  // Nothing has been gone for a day.
  BOOST_TEST(nodes.prune(24 * hour_ms) == 0);
  BOOST_TEST(nodes.prune(hour_ms) == 2);
  std::vector<std::string> left;
  for (auto& n : nodes.list())
    left.push_back(n.id);
  // An up node is never pruned, however old its beat: it is declared down
  // first.
  BOOST_TEST((left == std::vector<std::string>{"down-new", "left-new",
                                                "up-old"}));
  BOOST_TEST(nodes.prune(hour_ms) == 0);
  BOOST_TEST(nodes.prune(0) == 2);
  BOOST_TEST(nodes.list().size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_with_what_was_wrong) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  nodes.register_node("n1", "", "1.0");
  auto refused = [](const std::function<void()>& f, const std::string& what) {
    auto [code, message] = error_of(f);
    BOOST_TEST((code == ec::invalid_input), what << ": " << message);
    BOOST_TEST(contains(message, what), message);
  };
  refused([&] { nodes.register_node("", "", "1.0"); }, "node id");
  refused([&] { nodes.register_node(std::string(201, 'x'), "", "1.0"); },
          "node id");
  refused([&] { nodes.register_node("bad\xff", "", "1.0"); }, "node id");
  refused([&] { nodes.register_node(std::string("a\0b", 3), "", "1.0"); },
          "node id");
  refused([&] { nodes.register_node("n2", std::string(301, 'h'), "1.0"); },
          "address");
  refused([&] { nodes.register_node("n2", "", std::string(201, 'v')); },
          "version");
  refused([&] { nodes.heartbeat("", node_heartbeat{}); }, "node id");
  node_heartbeat hb;
  hb.level = "panic";
  refused([&] { nodes.heartbeat("n1", hb); }, "unknown pressure level");
  hb = {};
  hb.allocated_bytes = -1;
  refused([&] { nodes.heartbeat("n1", hb); }, "allocated_bytes");
  hb = {};
  hb.budget_bytes = -1;
  refused([&] { nodes.heartbeat("n1", hb); }, "budget_bytes");
  hb = {};
  hb.jobs_in_flight = -1;
  refused([&] { nodes.heartbeat("n1", hb); }, "jobs_in_flight");
  hb.jobs_in_flight = node_jobs_in_flight_max + 1;
  refused([&] { nodes.heartbeat("n1", hb); }, "jobs_in_flight");
  refused([&] { nodes.list(0); }, "node listing");
  refused([&] { nodes.list(node_list_rows_max + 1); }, "node listing");
  refused([&] { nodes.mark_down("n1", ""); }, "reason");
  refused([&] { nodes.mark_down("n1", std::string(1001, 'r')); }, "reason");
  refused([&] { nodes.mark_down("", "r"); }, "node id");
  refused([&] { nodes.leave(""); }, "node id");
  refused([&] { nodes.prune(-1); }, "prune age");
  refused([&] { nodes.prune(node_prune_age_ms_max + 1); }, "prune age");
  // Nothing changed; the largest figures and listing are taken.
  auto n1 = find(nodes, "n1");
  BOOST_TEST(n1.state == "up");
  BOOST_TEST(n1.level == "normal");
  BOOST_TEST(nodes.list().size() == 1u);
  hb = {};
  hb.jobs_in_flight = node_jobs_in_flight_max;
  hb.allocated_bytes = INT64_MAX;
  BOOST_TEST(nodes.heartbeat("n1", hb));
  BOOST_TEST(find(nodes, "n1").jobs_in_flight == node_jobs_in_flight_max);
  BOOST_TEST(nodes.list(node_list_rows_max).size() == 1u);
  BOOST_TEST(nodes.prune(node_prune_age_ms_max) == 0);
  // The schema refuses incoherent rows written by hand.
  BOOST_CHECK_THROW(m.db.query("INSERT INTO nodes (id, state) VALUES "
                               "('x', 'down') RETURNING id"),
                    std::exception);
  BOOST_CHECK_THROW(m.db.query("INSERT INTO nodes (id, level) VALUES "
                               "('x', 'panic') RETURNING id"),
                    std::exception);
  BOOST_CHECK_THROW(m.db.query("INSERT INTO nodes (id) VALUES ('') "
                                "RETURNING id"),
                    std::exception);
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_db_unavailable) {
  auto [code, message] = error_of([] {
    node_registry nodes{
      "postgresql:///catchup?host=/nonexistent-socket-dir&port=5432"};
  });
  BOOST_TEST((code == ec::db_unavailable), message);
}

BOOST_AUTO_TEST_CASE(a_node_that_beat_since_the_decision_is_not_declared_down) {
  migrated_database m;
  node_registry nodes{m.db.url()};
  nodes.register_node("late", "", "1.0");
  // It beat just now; a peer that decided it was down a minute ago is out
  // of date.
  BOOST_TEST(!nodes.mark_down("late", "timed out", 60000));
  BOOST_TEST(find(nodes, "late").state == "up");
  // Decided now (a closed socket): down.
  BOOST_TEST(nodes.mark_down("late", "connection closed", 0));
  BOOST_TEST(find(nodes, "late").state == "down");
}

BOOST_AUTO_TEST_SUITE_END()
