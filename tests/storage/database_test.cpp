// SPDX-License-Identifier: Apache-2.0
// Opening the database: an external URL is validated and checked, and the
// schema is migrated or verified as configured.

#include <boost/test/unit_test.hpp>

#include "storage/database.hpp"
#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

BOOST_AUTO_TEST_SUITE(storage_database)

BOOST_AUTO_TEST_CASE(an_external_url_is_used_and_migrated) {
  test::test_database db;
  config::database_settings cfg;
  cfg.url = db.url();
  auto opened = database::open(cfg);
  BOOST_TEST(!opened->embedded());
  // The given URL, with the limits for a dead link it did not set.
  BOOST_TEST(opened->url() == with_link_limits(db.url()));
  BOOST_TEST(opened->url().rfind(db.url(), 0) == 0);
  BOOST_TEST(schema_version(db.url()) == known_schema_version());
}

BOOST_AUTO_TEST_CASE(without_migrate_on_start_an_old_schema_is_refused) {
  test::test_database db;
  config::database_settings cfg;
  cfg.url = db.url();
  cfg.migrate_on_start = false;
  try {
    database::open(cfg);
    BOOST_FAIL("opened a database without schema");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::schema_too_old));
  }
}

BOOST_AUTO_TEST_CASE(a_malformed_url_is_a_config_error) {
  config::database_settings cfg;
  cfg.url = "postgresql://localhost/db?no_such_option=1";
  try {
    database::open(cfg);
    BOOST_FAIL("accepted a malformed URL");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::invalid_config));
    BOOST_TEST(std::string{e.what()}.find("database.url is not a valid")
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_reported_as_unavailable) {
  config::database_settings cfg;
  cfg.url = "postgresql:///catchup?host=/nonexistent-socket-dir&port=5432";
  try {
    database::open(cfg);
    BOOST_FAIL("connected to nothing");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::db_unavailable));
    BOOST_TEST(std::string{e.what()}.find("cannot reach the database")
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(an_external_url_gets_limits_for_a_dead_link_unless_it_sets_its_own) {
  auto uri = storage::with_link_limits("postgresql://catchup@db.example/catchup");
  BOOST_TEST(uri == "postgresql://catchup@db.example/catchup?keepalives=1"
                    "&keepalives_idle=10&keepalives_interval=5"
                    "&keepalives_count=3&tcp_user_timeout=30000");
  // The operator's own values stay; only the missing ones are added.
  auto own = storage::with_link_limits(
    "postgresql:///catchup?host=/run/pg&tcp_user_timeout=5000"
    "&keepalives_idle=2");
  BOOST_TEST(own == "postgresql:///catchup?host=/run/pg&tcp_user_timeout=5000"
                    "&keepalives_idle=2&keepalives=1&keepalives_interval=5"
                    "&keepalives_count=3");
  auto pairs = storage::with_link_limits("host=db.example dbname=catchup "
                                         "keepalives_count=9");
  BOOST_TEST(pairs == "host=db.example dbname=catchup keepalives_count=9 "
                      "keepalives=1 keepalives_idle=10 "
                      "keepalives_interval=5 tcp_user_timeout=30000");
  // What the engine opens with still connects (unix sockets ignore them).
  test::test_database db;
  config::database_settings cfg;
  cfg.url = db.url();
  auto opened = storage::database::open(cfg);
  BOOST_TEST(opened->url().find("tcp_user_timeout=30000") != std::string::npos);
  BOOST_CHECK_NO_THROW(storage::ping(opened->url()));
  BOOST_CHECK_THROW(storage::with_link_limits("postgresql://[bad"),
                    storage::storage_error);
}

BOOST_AUTO_TEST_SUITE_END()
