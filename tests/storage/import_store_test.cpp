// SPDX-License-Identifier: Apache-2.0
// Page merges when the database refuses one item for its data (past every
// check before SQL): the page is merged again item by item, the refused
// item is reported by index with the server's reason, the others and the
// cursor commit; a strict run rolls the page back whole instead.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "storage/storage_error.hpp"
#include "storage/import_store.hpp"
#include "storage/migrations.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

// Text longer than a btree index row may be (2,704 bytes), and
// incompressible, so that the server cannot shrink it below the limit.
std::string noise(std::size_t bytes) {
  std::string out;
  for (std::uint32_t x = 4242; out.size() < bytes;) {
    x = x * 1103515245u + 12345u;
    out += static_cast<char>('a' + (x >> 16) % 26);
  }
  return out;
}

imported_contact contact(const std::string& key, const std::string& name) {
  imported_contact c;
  c.key = key;
  c.name = name;
  return c;
}

struct fixture {
  test::test_database db;
  std::string user;
  import_target target;

  fixture() {
    migrate(db.url());
    user = db.query("INSERT INTO users (email) VALUES ('me@example.org') "
                    "RETURNING id")[0];
    target.user_id = user;
    target.source = "vcard";
    target.state_source = "vcard";
    target.resource = "/tmp/cards.vcf";
    target.calendar_id = "cards.vcf";
  }

  std::string keys(const std::string& table, const std::string& column) {
    return db.query("SELECT coalesce(string_agg(left(" + column + ", 8), ',' "
                    "ORDER BY " + column + "), '') FROM " + table
                    + " WHERE user_id = '" + user + "'")[0];
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(storage_import_store, fixture)

BOOST_AUTO_TEST_CASE(a_contact_the_database_refuses_costs_only_itself) {
  import_store store{db.url()};
  store.begin(target, {"{\"items\": 0}", 0});
  std::vector<imported_contact> page{contact("a", "Ada"),
                                     contact(noise(3000), "Huge Key"),
                                     contact("c", "Cy")};
  auto out = store.merge_contacts(target, page, {}, {"{\"items\": 3}", 3});
  BOOST_TEST(out.inserted == 2);
  BOOST_REQUIRE_EQUAL(out.failed.size(), 1u);
  BOOST_TEST(out.failed[0].index == 1u);
  BOOST_TEST(out.failed[0].reason.find("the database refused it") == 0u,
             out.failed[0].reason);
  BOOST_TEST(out.failed[0].reason.find("SQLSTATE 54000") != std::string::npos,
             out.failed[0].reason);
  BOOST_TEST(keys("contacts", "external_uid") == "a,c");
  // The cursor committed with them: a rerun resumes after the page.
  BOOST_TEST(store.read_progress(target).items_synced == 3);
}

BOOST_AUTO_TEST_CASE(a_strict_page_the_database_refuses_rolls_back_whole) {
  import_store store{db.url()};
  store.begin(target, {"{\"items\": 0}", 0});
  std::vector<imported_contact> page{contact("a", "Ada"),
                                     contact(noise(3000), "Huge Key")};
  try {
    store.merge_contacts(target, page, {}, {"{\"items\": 2}", 2}, false);
    BOOST_FAIL("a page with a refused item was merged");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::db_query_failed));
  }
  BOOST_TEST(keys("contacts", "external_uid") == "");
  BOOST_TEST(store.read_progress(target).items_synced == 0);
}

BOOST_AUTO_TEST_CASE(an_event_the_database_refuses_costs_only_itself) {
  import_store store{db.url()};
  target.source = "ical";
  target.state_source = "ical";
  store.begin(target, {"{\"items\": 0}", 0});
  auto event = [](const std::string& id) {
    calendar_event_item e;
    e.external_id = id;
    e.series_id = id;
    e.start_unix_s = 1772452800;
    e.end_unix_s = 1772456400;
    return e;
  };
  std::vector<calendar_event_item> page{event("e1"), event(noise(3000)),
                                        event("e3")};
  auto out = store.merge_events(target, page, {"{\"items\": 3}", 3},
                                1772452800);
  BOOST_TEST(out.inserted == 2);
  BOOST_REQUIRE_EQUAL(out.failed.size(), 1u);
  BOOST_TEST(out.failed[0].index == 1u);
  BOOST_TEST(keys("calendar_events", "external_id") == "e1,e3");
}

BOOST_AUTO_TEST_SUITE_END()
