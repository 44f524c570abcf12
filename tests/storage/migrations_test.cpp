// SPDX-License-Identifier: Apache-2.0
// Schema migrations on real databases: fresh, repeated, concurrent from two
// processes, refused when the schema is newer, atomic when one fails.

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

ec code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const storage_error& e) {
    return e.code();
  }
  return ec::none;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_migrations)

BOOST_AUTO_TEST_CASE(fresh_database_gets_every_table) {
  test::test_database db;
  BOOST_TEST(schema_version(db.url()) == 0);
  auto report = migrate(db.url());
  BOOST_TEST(report.version_before == 0);
  BOOST_TEST(report.version_after == known_schema_version());
  BOOST_TEST(report.applied.size() == built_in_migrations().size());
  BOOST_TEST(schema_version(db.url()) == known_schema_version());
  auto tables = db.query("SELECT table_name FROM information_schema.tables "
                         "WHERE table_schema = 'public' ORDER BY 1");
  for (auto* t : {"availability_windows", "calendar_events", "contact_groups",
                  "contacts", "generations", "groups", "schema_migrations",
                  "suggestion_exclusions", "suggestion_pauses", "suggestions",
                  "sync_state", "users"})
    BOOST_TEST((std::find(tables.begin(), tables.end(), t) != tables.end()),
               "table " << t);
  require_current_schema(db.url());
}

BOOST_AUTO_TEST_CASE(migrating_again_changes_nothing) {
  test::test_database db;
  migrate(db.url());
  auto again = migrate(db.url());
  BOOST_TEST(again.applied.empty());
  BOOST_TEST(again.version_before == known_schema_version());
  BOOST_TEST(db.query("SELECT count(*) FROM schema_migrations")[0]
             == std::to_string(built_in_migrations().size()));
}

BOOST_AUTO_TEST_CASE(two_processes_migrating_at_once_apply_each_once) {
  test::test_database db;
  pid_t children[2];
  for (auto& child : children) {
    child = fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
      // In the child: no Boost.Test assertions, only an exit status.
      try {
        migrate(db.url());
        _exit(0);
      } catch (...) {
        _exit(1);
      }
    }
  }
  for (auto child : children) {
    int status = 0;
    BOOST_REQUIRE_EQUAL(waitpid(child, &status, 0), child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
  }
  BOOST_TEST(db.query("SELECT count(*) FROM schema_migrations")[0]
             == std::to_string(built_in_migrations().size()));
  BOOST_TEST(schema_version(db.url()) == known_schema_version());
}

BOOST_AUTO_TEST_CASE(a_newer_schema_is_refused_with_a_clear_message) {
  test::test_database db;
  migrate(db.url());
  auto newer = known_schema_version() + 5;
  db.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ("
           + std::to_string(newer) + ", 'future', 'x') RETURNING version");
  try {
    migrate(db.url());
    BOOST_FAIL("migrate accepted a newer schema");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::schema_too_new));
    BOOST_TEST(std::string{e.what()}.find(
                 "at version " + std::to_string(newer)
                 + ", newer than this engine knows")
               != std::string::npos);
  }
  BOOST_TEST((code_of([&] { require_current_schema(db.url()); })
              == ec::schema_too_new));
}

BOOST_AUTO_TEST_CASE(an_old_schema_is_reported_as_needing_migrate) {
  test::test_database db;
  try {
    require_current_schema(db.url());
    BOOST_FAIL("an empty database passed the schema check");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::schema_too_old));
    BOOST_TEST(std::string{e.what()}.find("run 'catchup migrate'")
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_failing_migration_leaves_nothing_applied) {
  test::test_database db;
  std::vector<migration> list = {
    {1, "good", "CREATE TABLE first_table (id int)"},
    {2, "bad", "CREATE TABLE second_table (id int); SELECT no_such_column"},
  };
  try {
    migrate(db.url(), list);
    BOOST_FAIL("a broken migration was applied");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::db_query_failed));
    std::string what = e.what();
    BOOST_TEST(what.find("migration 2 (bad) failed") != std::string::npos);
    BOOST_TEST(what.find("no_such_column") != std::string::npos);
  }
  BOOST_TEST(db.query("SELECT to_regclass('first_table') IS NULL")[0] == "t");
  BOOST_TEST(schema_version(db.url()) == 0);
}

BOOST_AUTO_TEST_CASE(an_edited_applied_migration_is_detected) {
  test::test_database db;
  std::vector<migration> list = {{1, "one", "CREATE TABLE t1 (id int)"}};
  migrate(db.url(), list);
  list[0].sql = "CREATE TABLE t1 (id bigint)";
  BOOST_TEST((code_of([&] { migrate(db.url(), list); }) == ec::invalid_input));
}

BOOST_AUTO_TEST_CASE(data_of_the_version_3_schema_survives_the_steering_migration) {
  test::test_database db;
  // A database as the schema of version 3 made it, with data in it.
  auto all = built_in_migrations();
  migrate(db.url(), {all[0], all[1], all[2]});
  auto user = db.query("INSERT INTO users (email, timezone) VALUES "
                       "('old@example.org', 'Europe/Lisbon') RETURNING id")[0];
  db.query("INSERT INTO contacts (user_id, name, last_contact_date, "
           "frequency_preference, dunbar_circle, created_at) VALUES "
           "('" + user + "', 'Ana', '2026-10-01T10:00:00.5Z', 'weekly', "
           "'close', '2026-01-01T00:00:00.75Z'), "
           "('" + user + "', 'Bo', NULL, NULL, NULL, "
           "'2026-02-01T00:00:00Z') RETURNING 1");
  db.query("INSERT INTO groups (user_id, name) VALUES ('" + user
           + "', 'Family') RETURNING 1");
  db.query("INSERT INTO contact_groups (user_id, contact_id, group_id) "
           "SELECT c.user_id, c.id, g.id FROM contacts c, groups g "
           "WHERE c.name = 'Ana' RETURNING 1");
  db.query("INSERT INTO suggestions (user_id, contact_id, priority, "
           "slot_start, slot_end, slot_timezone, reason) SELECT user_id, id, "
           "120, '2026-11-01T18:00:00Z', '2026-11-01T19:00:00Z', 'UTC', "
           "'old' FROM contacts WHERE name = 'Ana' RETURNING 1");
  db.query("INSERT INTO jobs (kind, user_id) VALUES ('generate', '" + user
           + "') RETURNING 1");
  auto snapshot = [&] {
    return db.query(
      "SELECT (SELECT string_agg(name || '/' || coalesce(extract(epoch "
      "from last_contact_date)::text, '-') || '/' || coalesce(frequency_preference::text, '-') || '/' || "
      "coalesce(dunbar_circle::text, '-'), ',' ORDER BY name) FROM contacts) "
      "|| ' ' || (SELECT count(*) FROM contact_groups) || ' ' || "
      "(SELECT string_agg(status || '/' || reason || '/' || priority, ',') "
      "FROM suggestions) || ' ' || (SELECT string_agg(kind || '/' || state, "
      "',') FROM jobs) || ' ' || (SELECT timezone FROM users)")[0];
  };
  auto before = snapshot();
  auto report = migrate(db.url());
  BOOST_TEST(report.version_before == 3);
  BOOST_TEST(report.version_after == known_schema_version());
  BOOST_TEST(snapshot() == before);
  // The new columns hold what the old data says: Ana's weekly class and
  // close circle, Bo's default cadence counted from when he was added.
  BOOST_TEST(db.query("SELECT string_agg(name || '/' || "
                      "effective_cadence_days || '/' || importance_weight "
                      "|| '/' || extract(epoch from due_key)::bigint, ',' "
                      "ORDER BY name) FROM contacts")[0]
             == "Ana/7/6/1790848800,Bo/0/4/1769904000");
  BOOST_TEST(db.query("SELECT default_cadence_days FROM users")[0] == "30");
}

BOOST_AUTO_TEST_CASE(built_in_migrations_are_numbered_without_gaps) {
  auto& all = built_in_migrations();
  BOOST_REQUIRE(!all.empty());
  for (std::size_t i = 0; i < all.size(); ++i)
    BOOST_TEST(all[i].version == static_cast<std::int64_t>(i + 1));
  BOOST_TEST(all[0].name == "initial");
}

BOOST_AUTO_TEST_SUITE_END()
